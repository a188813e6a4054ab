"""Fetching feeds: claim a window, run the provider's adapter, replace the window's rows in the lakehouse,
record the run and advance the watermark (decision 0029).

``feed_fetch(provider, dataset, window)`` is the one entry point (tasks, the management command, a later
scheduler and backfills). A fetch never raises out for the outside world's failures (no key, no network, a
provider's error, a body it cannot parse): the run is ``failed`` with a code and message, the watermark
stays where it was, and the caller decides whether to try again later.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window
from apps.feeds.contracts import feed_contract_for
from apps.feeds.datasets import ADAPTERS, feed_dataset_get
from apps.feeds.models import EiaDataset, FeedQuarantineRow, FetchRun, Series, Watermark
from apps.feeds.quarantine import feed_rows_split
from apps.reference.selectors import iso_node_list, units_resolve
from aurum.lakehouse.feed_tables import (
    DROUGHT_USDM,
    DROUGHT_USDM_ARROW,
    ISO_LMP,
    ISO_LMP_ARROW,
    SERIES_OBSERVATION,
    SERIES_OBSERVATION_ARROW,
    drought_usdm_table,
    iso_lmp_table,
    series_observation_table,
    window_filter,
)
from aurum.lakehouse.locks import advisory_xact_lock, table_lock_name

log = structlog.get_logger(__name__)


def fetch_run_claim(*, provider: str, dataset: str, window: Window) -> FetchRun | None:
    """A running FetchRun for the window, or None when another worker holds it (the partial unique
    constraint on running windows decides; the loser's insert rolls back its savepoint only)."""
    feed_dataset_get(provider=provider, dataset=dataset)
    _stale_claims_expire(provider=provider.upper(), dataset=dataset, window=window)
    try:
        with transaction.atomic():
            return FetchRun.objects.create(
                provider=provider.upper(), dataset=dataset, window_start=window.start, window_end=window.end
            )
    except IntegrityError:
        return None


def _stale_claims_expire(*, provider: str, dataset: str, window: Window) -> int:
    """A running claim older than ``AURUM_FEEDS_CLAIM_TIMEOUT_SECONDS`` is a worker that died mid-fetch: it
    fails (``claim_expired``) so the window can be claimed again."""
    cutoff = dj_timezone.now() - timedelta(seconds=settings.AURUM_FEEDS_CLAIM_TIMEOUT_SECONDS)
    return FetchRun.objects.filter(
        provider=provider,
        dataset=dataset,
        window_start=window.start,
        window_end=window.end,
        status=FetchRun.Status.RUNNING,
        started_at__lt=cutoff,
    ).update(
        status=FetchRun.Status.FAILED,
        error_code="claim_expired",
        error="The fetch did not finish in time (its worker died?)",
        finished_at=dj_timezone.now(),
    )


def feed_fetch(
    *,
    provider: str,
    dataset: str,
    window: Window,
    transport: httpx.BaseTransport | None = None,
    keys: dict[str, str] | None = None,
) -> FetchRun | None:
    """Claim and fetch one window; None when it is claimed already. ``transport`` and ``keys`` stand in for
    the outside world (a replay of recorded responses); by default the providers are asked with the
    settings' keys."""
    run = fetch_run_claim(provider=provider, dataset=dataset, window=window)
    if run is None:
        log.info(
            "feed window already claimed", provider=provider, dataset=dataset, start=window.start.isoformat()
        )
        return None
    return fetch_run_execute(run=run, transport=transport, keys=keys)


def fetch_run_execute(
    *, run: FetchRun, transport: httpx.BaseTransport | None = None, keys: dict[str, str] | None = None
) -> FetchRun:
    feed = feed_dataset_get(provider=run.provider, dataset=run.dataset)
    window = Window(run.window_start, run.window_end)
    client = FeedClient(run.provider, transport=transport, keys=keys)
    try:
        rows = ADAPTERS[run.provider].fetch(client, feed, window)
        table, held = feed_rows_split(
            feed_contract_for(run.provider, run.dataset), _arrow_rows(feed, rows, run)
        )
        snapshot_id = _window_replace(feed, window, table)
    except FetchError as exc:
        return _finish(run, client, status=FetchRun.Status.FAILED, error_code=exc.code, error=exc.message)
    finally:
        client.close()
    return _finish(
        run,
        client,
        status=FetchRun.Status.SUCCEEDED,
        held=held,
        rows=table.num_rows,
        rows_quarantined=len(held),
        snapshot_id=snapshot_id,
    )


def _finish(
    run: FetchRun, client: FeedClient, *, status: str, held: list[dict[str, Any]] | None = None, **fields: Any
) -> FetchRun:
    with transaction.atomic():
        run.status = status
        run.request_count = len(client.recorded)
        run.requests = [{"url": r.url, "sha256": r.sha256, "status": r.status} for r in client.recorded]
        run.finished_at = dj_timezone.now()
        for name, value in fields.items():
            setattr(run, name, value)
        run.save()
        if status == FetchRun.Status.SUCCEEDED:
            _quarantine_replace(run, held or [])
            watermark_advance(provider=run.provider, dataset=run.dataset, until=run.window_end, run=run)
    log.info("feed fetch finished", provider=run.provider, dataset=run.dataset, status=status, rows=run.rows)
    return run


def _quarantine_replace(run: FetchRun, held: list[dict[str, Any]]) -> None:
    """The window's quarantined rows are this run's: an earlier fetch's held rows of the window go."""
    FeedQuarantineRow.objects.filter(
        provider=run.provider, dataset=run.dataset, window_start=run.window_start, window_end=run.window_end
    ).delete()
    FeedQuarantineRow.objects.bulk_create(
        FeedQuarantineRow(
            fetch_run=run,
            provider=run.provider,
            dataset=run.dataset,
            window_start=run.window_start,
            window_end=run.window_end,
            row=item["row"],
            reasons=item["reasons"],
        )
        for item in held
    )


def watermark_advance(*, provider: str, dataset: str, until: datetime, run: FetchRun) -> Watermark:
    """Move the watermark to ``until`` unless it is past it already (a re-fetch of an old window)."""
    mark, created = Watermark.objects.select_for_update().get_or_create(
        provider=provider, dataset=dataset, defaults={"fetched_until": until, "last_run": run}
    )
    if not created and until > mark.fetched_until:
        mark.fetched_until = until
        mark.last_run = run
        mark.save(update_fields=["fetched_until", "last_run", "updated_at"])
    return mark


def _arrow_rows(feed: FeedDataset, rows: list[dict[str, Any]], run: FetchRun) -> pa.Table:
    fetched_at = datetime.now(UTC)
    if feed.kind == "series":
        schema = SERIES_OBSERVATION_ARROW
        _series_units(feed, rows)
    elif feed.kind == "lmp":
        schema = ISO_LMP_ARROW
        _lmp_enrich(rows)
    else:
        schema = DROUGHT_USDM_ARROW
    for row in rows:
        row["fetch_run_id"] = run.pk
        row["fetched_at"] = fetched_at
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    try:
        return pa.table(columns, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise FetchError("parse", f"{feed.provider}: rows do not fit the table: {exc}") from exc


def _series_units(feed: FeedDataset, rows: list[dict[str, Any]]) -> None:
    """Catalog units and frequency where the response has none; canonical unit and currency from the unit
    map (``units_map.csv``), matched case-insensitively."""
    catalog = {s.series_id: s for s in Series.objects.filter(provider=feed.provider)} if rows else {}
    for row in rows:
        entry = catalog.get(row["series_id"])
        if entry is not None:
            row["unit"] = row.get("unit") or entry.unit_code or None
            row["frequency"] = row.get("frequency") or entry.frequency_code or None
        resolved = units_resolve(units_raw=row["unit"]) if row.get("unit") else None
        if resolved is not None:
            row["canonical_currency"], row["canonical_unit"] = resolved


def _lmp_enrich(rows: list[dict[str, Any]]) -> None:
    """Zone, hub and time zone from the ISO node registry (``iso_nodes.csv``) where it knows the node; a
    record hash over the row's identity."""
    isos = {row["iso_code"] for row in rows}
    nodes = {(n.iso_id, n.location_id): n for iso in isos for n in iso_node_list(iso=iso)}
    for row in rows:
        node = nodes.get((row["iso_code"], row["location_id"]))
        if node is not None:
            row.update(
                zone=node.zone or row.get("zone"),
                hub=node.hub or None,
                timezone=node.timezone or row.get("timezone"),
            )
        identity = (
            f"{row['iso_code']}|{row['market']}|{row['location_id']}|{row['interval_start'].isoformat()}"
        )
        row["record_hash"] = hashlib.sha256(identity.encode()).hexdigest()[:32]


def _window_replace(feed: FeedDataset, window: Window, rows: pa.Table) -> int | None:
    """Replace the window's rows with ``rows``: one Iceberg overwrite, under the table's advisory lock."""
    if feed.kind == "series":
        identifier, table = SERIES_OBSERVATION, series_observation_table()
        where = window_filter(
            {"provider": feed.provider, "dataset": feed.dataset}, "ts", window.start, window.end
        )
    elif feed.kind == "lmp":
        identifier, table = ISO_LMP, iso_lmp_table()
        market = feed.params["market"]  # the market its rows carry: a re-fetch replaces exactly them
        where = window_filter(
            {"iso_code": feed.provider, "market": market}, "interval_start", window.start, window.end
        )
    else:
        identifier, table = DROUGHT_USDM, drought_usdm_table()
        where = window_filter(
            {"region_type": "STATE"},
            "valid_date",
            window.start.date().isoformat(),
            window.end.date().isoformat(),
        )
    with transaction.atomic():
        advisory_xact_lock(table_lock_name(identifier))
        table.overwrite(
            rows.sort_by([(name, "ascending") for name in _sort_keys(feed)]), overwrite_filter=where
        )
        snapshot = table.current_snapshot()
    return int(snapshot.snapshot_id) if snapshot is not None else None


def _sort_keys(feed: FeedDataset) -> tuple[str, ...]:
    return {"series": ("series_id", "ts"), "lmp": ("location_id", "interval_start")}.get(
        feed.kind, ("region_id", "valid_date")
    )


# --- the series catalog ------------------------------------------------------------------------------------


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text if "T" in text or "+" in text else text + "T00:00:00+00:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


FRED_FREQUENCIES = {
    "Daily": "DAILY",
    "Weekly": "WEEKLY",
    "Monthly": "MONTHLY",
    "Quarterly": "QUARTERLY",
    "Annual": "ANNUAL",
    "Biweekly": "BIWEEKLY",
}


def catalog_load(*, source_dir: Path) -> dict[str, int]:
    """Load (or refresh) the series catalog and the EIA datasets from the original's catalog files in
    ``source_dir`` (``series_catalog.jsonl``, ``fred_catalog.json``, ``noaa_ingest_datasets.json``,
    ``eia_catalog.json``; each optional). Idempotent: entries are keyed by (provider, series_id) and path."""
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    fred = source_dir / "fred_catalog.json"
    if fred.exists():
        for item in json.loads(fred.read_text())["series"]:
            entries[("FRED", item["id"])] = {
                "title": item["title"],
                "description": item.get("notes", ""),
                "unit_code": item.get("units", ""),
                "frequency_code": FRED_FREQUENCIES.get(
                    item.get("frequency", ""), str(item.get("frequency", "")).upper()
                ),
                "seasonal_adjustment": item.get("seasonal_adjustment", ""),
                "category": item.get("category", ""),
                "source_url": f"https://fred.stlouisfed.org/series/{item['id']}",
                "geo_id": "US",
                "start_ts": _ts(item.get("start_date")),
                "end_ts": _ts(item.get("end_date")),
                "last_observation_ts": _ts(item.get("end_date")),
                "metadata": {"popularity": item.get("popularity")},
            }
    jsonl = source_dir / "series_catalog.jsonl"
    if jsonl.exists():
        for line in jsonl.read_text().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            fields = {
                name: item.get(name) or ""
                for name in (
                    "dataset_code",
                    "title",
                    "description",
                    "unit_code",
                    "frequency_code",
                    "geo_id",
                    "status",
                    "category",
                    "source_url",
                    "notes",
                )
            }
            fields.update(
                start_ts=_ts(item.get("start_ts")),
                end_ts=_ts(item.get("end_ts")),
                last_observation_ts=_ts(item.get("last_observation_ts")),
                tags=item.get("tags") or [],
                metadata=item.get("metadata") or {},
                version=int(item.get("version") or 1),
            )
            key = (str(item["provider"]).upper(), str(item["series_id"]))
            entries[key] = {
                **entries.get(key, {}),
                **{k: v for k, v in fields.items() if v not in ("", None)},
            }
    noaa = source_dir / "noaa_ingest_datasets.json"
    if noaa.exists():
        for config in json.loads(noaa.read_text())["datasets"]:
            if config.get("dataset_id") != "ghcnd_daily":
                continue
            for station in config["stations"]:
                for datatype in config["datatypes"]:
                    entries[("NOAA", f"{station.split(':')[-1]}.{datatype}")] = {
                        "dataset_code": "GHCND",
                        "title": f"{datatype} at {station}",
                        "description": f"GHCN-Daily {datatype} observed at station {station}",
                        "unit_code": NOAA_UNITS.get(datatype, ""),
                        "frequency_code": "DAILY",
                        "geo_id": station,
                        "category": "Weather",
                        "source_url": "https://www.ncei.noaa.gov/cdo-web/",
                    }
    with transaction.atomic():
        for (provider, series_id), fields in entries.items():
            fields.setdefault("title", series_id)
            Series.objects.update_or_create(provider=provider, series_id=series_id, defaults=fields)
        datasets = _eia_datasets(source_dir / "eia_catalog.json")
    return {"series": len(entries), "eia_datasets": datasets}


NOAA_UNITS = {
    "TMAX": "degC",
    "TMIN": "degC",
    "TAVG": "degC",
    "PRCP": "mm",
    "SNOW": "mm",
    "SNWD": "mm",
    "AWND": "m/s",
    "WSF2": "m/s",
    "WSF5": "m/s",
}


def _eia_datasets(path: Path) -> int:
    if not path.exists():
        return 0
    items = json.loads(path.read_text())["datasets"]
    existing = set(EiaDataset.objects.values_list("path", flat=True))
    rows = [
        EiaDataset(
            path=item["path"],
            name=item.get("name") or "",
            description=item.get("description") or "",
            frequencies=item.get("frequencies") or [],
            facets=item.get("facets") or [],
            data_columns=item.get("data_columns") or [],
            start_period=item.get("start_period") or "",
            end_period=item.get("end_period") or "",
            default_frequency=item.get("default_frequency") or "",
            default_date_format=item.get("default_date_format") or "",
        )
        for item in items
    ]
    EiaDataset.objects.bulk_create([r for r in rows if r.path not in existing])
    fields = [
        "name",
        "description",
        "frequencies",
        "facets",
        "data_columns",
        "start_period",
        "end_period",
        "default_frequency",
        "default_date_format",
    ]
    by_path = {d.path: d.pk for d in EiaDataset.objects.all()}
    updates = [r for r in rows if r.path in existing]
    for r in updates:
        r.pk = by_path[r.path]
    EiaDataset.objects.bulk_update(updates, fields)
    return len(rows)
