"""Reading the reference catalog files (spec 2.2) into checked rows, without touching the database.

Every problem is a ``CatalogFileError`` naming the file and the line (CSV, JSON syntax) or the entry (JSON
structure), so a broken file is fixed in one look. The files are checked against each other too: a market
or node must name an ISO of ``iso_catalog.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.reference.models import IsoNode, UnitMapping
from aurum.errors import InvalidInputError

UNITS_MAP = "units_map.csv"
CALENDARS = "calendars.json"
ISO_CATALOG = "iso_catalog.csv"
ISO_SOURCES = "iso_catalog.json"
MARKET_CATALOG = "market_catalog.csv"
ISO_NODES = "iso_nodes.csv"
BLOCK_CATALOG = "block_catalog.csv"
PRODUCT_CATALOG = "product_catalog.csv"

_HOUR_RANGE = re.compile(r"^(\d{2})-(\d{2})$")
_UTC_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class CatalogFileError(InvalidInputError, ValueError):
    """A reference file is missing or malformed; the message names the file and the line or entry. Still a
    ValueError: the readers below re-word a nested one into the error of the enclosing entry."""

    slug = "invalid-catalog-file"

    def __init__(self, path: Path, message: str, *, line: int | None = None, item: str | None = None):
        self.path = path
        self.line = line
        self.item = item
        where = f", line {line}" if line is not None else f", {item}" if item else ""
        super().__init__(f"{path}{where}: {message}")


@dataclass(frozen=True)
class CatalogRow:
    """One record of a file as model field values, and where it came from."""

    path: Path
    values: dict[str, Any]
    line: int | None = None
    item: str | None = None

    def error(self, message: str) -> CatalogFileError:
        return CatalogFileError(self.path, message, line=self.line, item=self.item)


@dataclass
class ReferenceCatalogs:
    """Every catalog of a fixture folder, each a list of rows in file order."""

    units: list[CatalogRow] = field(default_factory=list)
    calendars: list[CatalogRow] = field(default_factory=list)
    calendar_holidays: list[CatalogRow] = field(default_factory=list)
    calendar_blocks: list[CatalogRow] = field(default_factory=list)
    isos: list[CatalogRow] = field(default_factory=list)
    iso_sources: list[CatalogRow] = field(default_factory=list)
    markets: list[CatalogRow] = field(default_factory=list)
    nodes: list[CatalogRow] = field(default_factory=list)
    blocks: list[CatalogRow] = field(default_factory=list)
    products: list[CatalogRow] = field(default_factory=list)


def catalogs_read(*, source_dir: Path) -> ReferenceCatalogs:
    """Read and check every catalog file in ``source_dir``; raise ``CatalogFileError`` on a problem."""
    if not source_dir.is_dir():
        raise CatalogFileError(source_dir, "the reference fixture folder does not exist")
    catalogs = ReferenceCatalogs()
    catalogs.units = _units_read(source_dir / UNITS_MAP)
    catalogs.calendars, catalogs.calendar_holidays, catalogs.calendar_blocks = _calendars_read(
        source_dir / CALENDARS
    )
    catalogs.isos = _isos_read(source_dir / ISO_CATALOG)
    iso_codes = {row.values["iso_code"] for row in catalogs.isos}
    catalogs.iso_sources = _iso_sources_read(source_dir / ISO_SOURCES, iso_codes)
    catalogs.markets = _markets_read(source_dir / MARKET_CATALOG, iso_codes)
    catalogs.nodes = _nodes_read(source_dir / ISO_NODES, iso_codes)
    catalogs.blocks = _blocks_read(source_dir / BLOCK_CATALOG)
    catalogs.products = _products_read(source_dir / PRODUCT_CATALOG)
    return catalogs


def hour_ranges(hours: list[str]) -> list[int]:
    """Expand ``["00-06", "23-23"]`` to the hours it covers, both ends included."""
    covered: list[int] = []
    for text in hours:
        first, last = _hour_range(text)
        covered.extend(range(first, last + 1))
    return covered


def _hour_range(text: str) -> tuple[int, int]:
    match = _HOUR_RANGE.match(text)
    if not match:
        raise ValueError(f"hour range {text!r} is not HH-HH")
    first, last = int(match.group(1)), int(match.group(2))
    if not 0 <= first <= last <= 23:
        raise ValueError(f"hour range {text!r} must run forward within 00-23")
    return first, last


# --- CSV ---------------------------------------------------------------------------------------------------


class _CellError(ValueError):
    pass


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogFileError(path, "the file is missing") from None
    except UnicodeDecodeError as exc:
        raise CatalogFileError(path, f"the file is not UTF-8 ({exc.reason} at byte {exc.start})") from None


def _csv_records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: stripped text}) for each record; the header must hold exactly ``columns``."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if sorted(header) != sorted(columns):
            missing = [c for c in columns if c not in header]
            unexpected = [c for c in header if c not in columns]
            raise CatalogFileError(
                path,
                f"the header must name the columns {', '.join(columns)}; "
                f"missing {missing or 'none'}, unexpected {unexpected or 'none'}",
                line=1,
            )
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise CatalogFileError(
                    path, f"expected {len(header)} fields, found {len(record)}", line=reader.line_num
                )
            yield reader.line_num, dict(zip(header, (cell.strip() for cell in record), strict=True))
    except csv.Error as exc:
        raise CatalogFileError(path, f"not valid CSV ({exc})", line=reader.line_num) from None


def _csv_read(
    path: Path,
    columns: tuple[str, ...],
    parse: Callable[[dict[str, str]], dict[str, Any]],
    key: Callable[[dict[str, Any]], object],
) -> list[CatalogRow]:
    """Parse each record into model values; a duplicate ``key`` is an error naming both lines."""
    rows: list[CatalogRow] = []
    seen: dict[object, int] = {}
    for line, record in _csv_records(path, columns):
        try:
            values = parse(record)
        except _CellError as exc:
            raise CatalogFileError(path, str(exc), line=line) from None
        natural_key = key(values)
        if natural_key in seen:
            shown = ", ".join(natural_key) if isinstance(natural_key, tuple) else natural_key
            raise CatalogFileError(path, f"duplicate of line {seen[natural_key]} ({shown})", line=line)
        seen[natural_key] = line
        rows.append(CatalogRow(path=path, values=values, line=line))
    return rows


def _text(record: dict[str, str], column: str) -> str:
    value = record[column]
    if not value:
        raise _CellError(f"{column} is empty")
    return value


def _whole_number(record: dict[str, str], column: str, *, low: int, high: int) -> int:
    text = _text(record, column)
    if not text.isdigit() or not low <= int(text) <= high:
        raise _CellError(f"{column} {text!r} is not a whole number from {low} to {high}")
    return int(text)


def _timezone(record: dict[str, str], column: str, *, optional: bool = False) -> str:
    name = record[column]
    if not name and optional:
        return ""
    try:
        ZoneInfo(_text(record, column))
    except (ZoneInfoNotFoundError, ValueError):
        raise _CellError(f"{column} {name!r} is not an IANA timezone") from None
    return name


def _iso_code(record: dict[str, str], column: str, iso_codes: set[str]) -> str:
    code = _text(record, column)
    if code not in iso_codes:
        raise _CellError(f"{column} {code!r} is not an ISO of {ISO_CATALOG}")
    return code


def _units_read(path: Path) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        currency = _text(record, "currency")
        if not _CURRENCY.match(currency):
            raise _CellError(f"currency {currency!r} is not a three-letter code such as USD")
        raw = _text(record, "units_raw")
        return {
            "units_raw": raw,
            "units_key": UnitMapping.key_for(raw),
            "currency": currency,
            "per_unit": _text(record, "per_unit"),
        }

    rows = _csv_read(path, ("units_raw", "currency", "per_unit"), parse, lambda v: v["units_raw"])
    # Several spellings share a key ($/MWh, $ / MWh, $/MWH); they must agree on what they mean.
    meaning: dict[str, CatalogRow] = {}
    for row in rows:
        first = meaning.setdefault(row.values["units_key"], row)
        if (first.values["currency"], first.values["per_unit"]) != (
            row.values["currency"],
            row.values["per_unit"],
        ):
            raise row.error(
                f"{row.values['units_raw']!r} has the lookup key of line {first.line} "
                f"({first.values['units_raw']!r}) but maps to a different currency or unit"
            )
    return rows


def _isos_read(path: Path) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        offsets = record["timezone_offsets"].replace(";", " ").split()
        for offset in offsets:
            if not _UTC_OFFSET.match(offset):
                raise _CellError(f"timezone_offsets {offset!r} is not a UTC offset like -05:00")
        return {
            "iso_code": _text(record, "iso_code"),
            "iso_name": _text(record, "iso_name"),
            "country": _text(record, "country"),
            "default_timezone": _timezone(record, "default_timezone"),
            "region": _text(record, "region"),
            "timezone_offsets": offsets,
        }

    columns = ("iso_code", "iso_name", "country", "default_timezone", "region", "timezone_offsets")
    return _csv_read(path, columns, parse, lambda v: v["iso_code"])


def _markets_read(path: Path, iso_codes: set[str]) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        return {
            "iso_id": _iso_code(record, "iso_code", iso_codes),
            "market_code": _text(record, "market_code"),
            "market_name": _text(record, "market_name"),
            "market_category": _text(record, "market_category"),
            "settlement_interval_minutes": _whole_number(
                record, "settlement_interval_minutes", low=1, high=1440
            ),
            "timezone_override": _timezone(record, "timezone_override", optional=True),
        }

    columns = (
        "iso_code",
        "market_code",
        "market_name",
        "market_category",
        "settlement_interval_minutes",
        "timezone_override",
    )
    return _csv_read(path, columns, parse, lambda v: (v["iso_id"], v["market_code"]))


def _nodes_read(path: Path, iso_codes: set[str]) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        location_type = _text(record, "location_type")
        if location_type not in IsoNode.LocationType.values:
            raise _CellError(
                f"location_type {location_type!r} is not one of {', '.join(IsoNode.LocationType.values)}"
            )
        return {
            "iso_id": _iso_code(record, "iso", iso_codes),
            "location_id": _text(record, "location_id"),
            "location_name": _text(record, "location_name"),
            "location_type": location_type,
            "zone": record["zone"],
            "hub": record["hub"],
            "timezone": _timezone(record, "timezone"),
        }

    columns = ("iso", "location_id", "location_name", "location_type", "zone", "hub", "timezone")
    return _csv_read(path, columns, parse, lambda v: (v["iso_id"], v["location_id"]))


def _blocks_read(path: Path) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        return {
            "block_code": _text(record, "block_code"),
            "block_name": _text(record, "block_name"),
            "start_hour": _whole_number(record, "start_hour", low=0, high=24),
            "end_hour": _whole_number(record, "end_hour", low=0, high=24),
            "total_hours": _whole_number(record, "total_hours", low=0, high=168),
            "description": record["description"],
        }

    columns = ("block_code", "block_name", "start_hour", "end_hour", "total_hours", "description")
    return _csv_read(path, columns, parse, lambda v: v["block_code"])


def _products_read(path: Path) -> list[CatalogRow]:
    def parse(record: dict[str, str]) -> dict[str, Any]:
        return {
            "product_code": _text(record, "product_code"),
            "product_name": _text(record, "product_name"),
            "tenor_type": _text(record, "tenor_type"),
            "commodity": _text(record, "commodity"),
            "unit": _text(record, "unit"),
            "description": record["description"],
        }

    columns = ("product_code", "product_name", "tenor_type", "commodity", "unit", "description")
    return _csv_read(path, columns, parse, lambda v: v["product_code"])


# --- JSON --------------------------------------------------------------------------------------------------


def _json_read(path: Path) -> Any:
    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise CatalogFileError(path, f"the key {key!r} appears twice in one object")
        return dict(pairs)

    try:
        return json.loads(_read_text(path), object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise CatalogFileError(
            path, f"not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno
        ) from None


def _expect(path: Path, item: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    # bool is an int in Python; a JSON true is never a number or an hour here.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise CatalogFileError(path, f"expected {what}, found {json.dumps(value)}", item=item)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _keys_check(path: Path, item: str, entry: dict[str, Any], required: set[str], optional: set[str]) -> None:
    missing = sorted(required - entry.keys())
    unexpected = sorted(entry.keys() - required - optional)
    if missing or unexpected:
        raise CatalogFileError(
            path, f"missing keys {missing or 'none'}, unexpected keys {unexpected or 'none'}", item=item
        )


def _calendars_read(path: Path) -> tuple[list[CatalogRow], list[CatalogRow], list[CatalogRow]]:
    document = _expect(path, "top level", _json_read(path), dict, "an object of calendars by name")
    calendars: list[CatalogRow] = []
    holidays: list[CatalogRow] = []
    blocks: list[CatalogRow] = []
    for name, spec in document.items():
        _expect(path, name, spec, dict, "an object with timezone, holidays and blocks")
        _keys_check(path, name, spec, {"timezone", "blocks"}, {"holidays"})
        timezone = _expect(path, f"{name}.timezone", spec["timezone"], str, "a timezone name")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CatalogFileError(
                path, f"{timezone!r} is not an IANA timezone", item=f"{name}.timezone"
            ) from None
        calendars.append(CatalogRow(path=path, values={"name": name, "timezone": timezone}, item=name))

        seen: set[date] = set()
        for index, text in enumerate(
            _expect(path, f"{name}.holidays", spec.get("holidays", []), list, "a list")
        ):
            item = f"{name}.holidays[{index}]"
            try:
                day = date.fromisoformat(_expect(path, item, text, str, "a YYYY-MM-DD date"))
            except ValueError:
                raise CatalogFileError(path, f"{text!r} is not a YYYY-MM-DD date", item=item) from None
            if day in seen:
                raise CatalogFileError(path, f"{text} is listed twice", item=item)
            seen.add(day)
            holidays.append(CatalogRow(path=path, values={"calendar_id": name, "date": day}, item=item))

        for block, block_spec in _expect(path, f"{name}.blocks", spec["blocks"], dict, "an object").items():
            item = f"{name}.blocks.{block}"
            _expect(path, item, block_spec, dict, "an object with rules")
            _keys_check(path, item, block_spec, {"rules"}, set())
            rules = _rules_check(path, item, block_spec["rules"])
            blocks.append(
                CatalogRow(path=path, values={"calendar_id": name, "block": block, "rules": rules}, item=item)
            )
    return calendars, holidays, blocks


def _rules_check(path: Path, item: str, rules: Any) -> list[dict[str, list[Any]]]:
    checked: list[dict[str, list[Any]]] = []
    for index, rule in enumerate(_expect(path, f"{item}.rules", rules, list, "a list of rules")):
        where = f"{item}.rules[{index}]"
        _expect(path, where, rule, dict, "a rule object")
        _keys_check(path, where, rule, {"weekdays", "hours"}, set())
        weekdays = _expect(path, f"{where}.weekdays", rule["weekdays"], list, "a list of weekdays")
        for day in weekdays:
            if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
                raise CatalogFileError(
                    path, f"weekday {json.dumps(day)} is not 1 (Mon) to 7 (Sun)", item=where
                )
        hours = _expect(path, f"{where}.hours", rule["hours"], list, "a list of HH-HH ranges")
        for text in hours:
            try:
                _hour_range(_expect(path, f"{where}.hours", text, str, "an HH-HH range"))
            except ValueError as exc:
                raise CatalogFileError(path, str(exc), item=f"{where}.hours") from None
        checked.append({"weekdays": weekdays, "hours": hours})
    return checked


def _iso_sources_read(path: Path, iso_codes: set[str]) -> list[CatalogRow]:
    document = _expect(path, "top level", _json_read(path), dict, "an object with isos")
    entries = _expect(path, "isos", document.get("isos"), list, "a list of ISOs")
    declared = document.get("iso_count")
    if declared is not None and declared != len(entries):
        raise CatalogFileError(
            path, f"iso_count says {declared} but isos lists {len(entries)}", item="iso_count"
        )
    required = {
        "name",
        "full_name",
        "region",
        "base_url",
        "description",
        "data_types",
        "markets",
        "zones",
        "rate_limits",
        "api_format",
        "authentication",
        "price_nodes_available",
        "ancillary_services_available",
    }
    rows: list[CatalogRow] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        item = f"isos[{index}]"
        _expect(path, item, entry, dict, "an ISO object")
        _keys_check(path, item, entry, required, {"api_key_required"})
        code = _expect(path, f"{item}.name", entry["name"], str, "a name").upper()
        if code not in iso_codes:
            raise CatalogFileError(
                path, f"{entry['name']!r} is not an ISO of {ISO_CATALOG}", item=f"{item}.name"
            )
        if code in seen:
            raise CatalogFileError(path, f"{entry['name']!r} is listed twice", item=f"{item}.name")
        seen.add(code)
        limits = _expect(path, f"{item}.rate_limits", entry["rate_limits"], dict, "an object")
        _keys_check(path, f"{item}.rate_limits", limits, {"requests_per_minute", "requests_per_hour"}, set())
        values: dict[str, Any] = {"iso_id": code}
        for key in ("full_name", "region", "base_url", "description", "api_format", "authentication"):
            values[key] = _expect(path, f"{item}.{key}", entry[key], str, "text")
        for key in ("data_types", "markets", "zones"):
            values[key] = _expect(path, f"{item}.{key}", entry[key], list, "a list")
            for element in values[key]:
                _expect(path, f"{item}.{key}", element, str, "a list of text")
        for key in ("requests_per_minute", "requests_per_hour"):
            values[key] = _expect(path, f"{item}.rate_limits.{key}", limits[key], int, "a whole number")
        for key in ("api_key_required", "price_nodes_available", "ancillary_services_available"):
            values[key] = _expect(path, f"{item}.{key}", entry.get(key, False), bool, "true or false")
        rows.append(CatalogRow(path=path, values=values, item=item))
    return rows
