"""Writing the shared reference data (public schema); the ``load_reference`` command calls these."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import structlog
from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.reference.catalogs import CatalogRow, catalogs_read
from apps.reference.models import (
    Block,
    Calendar,
    CalendarBlock,
    CalendarHoliday,
    Iso,
    IsoDataSource,
    IsoNode,
    Market,
    Product,
    UnitMapping,
)
from apps.reference.selectors import units_cache_bump

log = structlog.get_logger(__name__)

ModelT = TypeVar("ModelT", bound=models.Model)

# The examples spec 2.2 gives for units_map.csv, plus the per-MWh spellings of European marks.
DEFAULT_UNIT_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    ("$/MWh", "USD", "MWh"),
    ("c/kWh", "USD", "kWh"),
    ("$/MW-day", "USD", "MW-day"),
    ("€/MWh", "EUR", "MWh"),
    ("EUR/MWh", "EUR", "MWh"),
    ("£/MWh", "GBP", "MWh"),
    ("GBP/MWh", "GBP", "MWh"),
)


def reference_load(*, source_dir: Path) -> dict[str, int]:
    """Create or update every reference catalog from the files in ``source_dir``; return the rows per catalog.

    Idempotent: loading the same files again writes nothing, and a row whose values changed in its file is
    updated in place (matched on its code). Rows that are no longer in a file are kept, since other data may
    point at them; only a calendar's holidays and blocks follow ``calendars.json`` exactly. Every file is read
    and checked before anything is written, and the writes share one transaction, so a missing or malformed
    file raises ``CatalogFileError`` (naming the file and line) and leaves the database as it was.
    """
    catalogs = catalogs_read(source_dir=source_dir)
    with transaction.atomic():
        changed = {
            "units_map": _upsert(UnitMapping, catalogs.units, ("units_raw",)),
            "calendars": _upsert(Calendar, catalogs.calendars, ("name",)),
            "calendar_holidays": _upsert(
                CalendarHoliday, catalogs.calendar_holidays, ("calendar_id", "date")
            ),
            "calendar_blocks": _upsert(CalendarBlock, catalogs.calendar_blocks, ("calendar_id", "block")),
            "iso_catalog": _upsert(Iso, catalogs.isos, ("iso_code",)),
            "iso_data_sources": _upsert(IsoDataSource, catalogs.iso_sources, ("iso_id",)),
            "market_catalog": _upsert(Market, catalogs.markets, ("iso_id", "market_code")),
            "iso_nodes": _upsert(IsoNode, catalogs.nodes, ("iso_id", "location_id")),
            "block_catalog": _upsert(Block, catalogs.blocks, ("block_code",)),
            "product_catalog": _upsert(Product, catalogs.products, ("product_code",)),
        }
        names = [row.values["name"] for row in catalogs.calendars]
        changed["calendar_holidays"] += _calendar_leftovers_delete(
            CalendarHoliday, names, catalogs.calendar_holidays, ("calendar_id", "date")
        )
        changed["calendar_blocks"] += _calendar_leftovers_delete(
            CalendarBlock, names, catalogs.calendar_blocks, ("calendar_id", "block")
        )
        if changed["units_map"]:
            _units_changed()
    log.info("reference.loaded", source_dir=str(source_dir), changed=changed)
    return {
        "units_map": len(catalogs.units),
        "calendars": len(catalogs.calendars),
        "calendar_holidays": len(catalogs.calendar_holidays),
        "calendar_blocks": len(catalogs.calendar_blocks),
        "iso_catalog": len(catalogs.isos),
        "iso_data_sources": len(catalogs.iso_sources),
        "market_catalog": len(catalogs.markets),
        "iso_nodes": len(catalogs.nodes),
        "block_catalog": len(catalogs.blocks),
        "product_catalog": len(catalogs.products),
    }


@transaction.atomic
def units_map_default_ensure() -> int:
    """Make sure the unit mappings spec 2.2 gives as examples exist; return how many were created.

    Only for a machine without the fixture folder (the demo outside the monorepo), where ``reference_load``
    has nothing to read: ``$/MWh``, ``c/kWh`` and ``$/MW-day`` in USD, and ``€/MWh``, ``EUR/MWh``, ``£/MWh``,
    ``GBP/MWh``. A lookup key that already has a mapping (e.g. from ``units_map.csv``) is left alone.
    """
    existing = set(UnitMapping.objects.values_list("units_key", flat=True))
    created = 0
    for units_raw, currency, per_unit in DEFAULT_UNIT_MAPPINGS:
        key = UnitMapping.key_for(units_raw)
        if key not in existing:
            UnitMapping.objects.create(
                units_raw=units_raw, units_key=key, currency=currency, per_unit=per_unit
            )
            existing.add(key)
            created += 1
    if created:
        _units_changed()
    return created


def _units_changed() -> None:
    # Now, so reads later in this transaction see the new units; and after commit, so a process that
    # cached the old units between the two (it could not see ours yet) drops them too.
    units_cache_bump()
    transaction.on_commit(units_cache_bump)


def _upsert(model: type[ModelT], rows: Iterable[CatalogRow], key: tuple[str, ...]) -> int:
    """Create or update one object per row, matched on the ``key`` fields; return how many were written.

    Objects are saved one by one (the catalogs are small) so that each change reaches the audit log.
    """
    existing = {tuple(getattr(obj, f) for f in key): obj for obj in model._default_manager.all()}
    written = 0
    for row in rows:
        obj = existing.get(tuple(row.values[f] for f in key))
        if obj is None:
            obj = model(**row.values)
        else:
            differing = [f for f, value in row.values.items() if getattr(obj, f) != value]
            if not differing:
                continue
            for f in differing:
                setattr(obj, f, row.values[f])
        try:
            obj.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            problems = "; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())
            raise row.error(problems) from None
        obj.save()
        written += 1
    return written


def _calendar_leftovers_delete(
    model: type[ModelT], calendars: list[str], rows: Iterable[CatalogRow], key: tuple[str, ...]
) -> int:
    """Delete the holidays or blocks of the given calendars that their file no longer lists."""
    wanted = {tuple(row.values[f] for f in key) for row in rows}
    leftovers = [
        obj.pk
        for obj in model._default_manager.filter(calendar_id__in=calendars)
        if tuple(getattr(obj, f) for f in key) not in wanted
    ]
    if leftovers:
        # QuerySet.delete() sends the delete signals per object, so the audit log records each one.
        model._default_manager.filter(pk__in=leftovers).delete()
    return len(leftovers)
