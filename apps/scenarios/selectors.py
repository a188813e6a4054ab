"""Scenario reads: scenarios and runs (tenant schema) and their outputs (the tenant's Iceberg table).

Another tenant's scenario or run is simply absent from this schema: every get raises NotFoundError.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db.models import Prefetch, QuerySet
from pyiceberg.exceptions import NoSuchTableError

from apps.scenarios.engine import CurveSet
from apps.scenarios.models import Scenario, ScenarioAssumption, ScenarioRun
from apps.scenarios.output_queries import COMPARE_COLUMNS, run_outputs_query, runs_compare_query
from apps.scenarios.outputs import output_table_name
from aurum.errors import NotFoundError
from aurum.lakehouse.engines import QueryResult, get_engine
from aurum.lakehouse.queries import CurveFilters, curves_asof, curves_latest
from aurum.lakehouse.sql import LakehouseQuery
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

MAX_CURVES = 2000
TENOR_TYPE_ORDER = {"MONTHLY": 0, "QUARTER": 1, "SEASON": 2, "CALENDAR": 3}
OUTPUT_COLUMNS = (
    "asof_date",
    "scenario_id",
    "tenant_id",
    "run_id",
    "curve_key",
    "tenor_type",
    "contract_month",
    "tenor_label",
    "metric",
    "value",
    "band_lower",
    "band_upper",
    "attribution",
    "version_hash",
    "computed_ts",
)


# --- scenarios and runs ----------------------------------------------------------------------------------


def scenario_list(
    *,
    status: str | None = None,
    name: str | None = None,
    tag: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Scenario]:
    """The tenant's scenarios, newest first, with their assumptions and creators prefetched."""
    scenarios = Scenario.objects.select_related("created_by").prefetch_related(
        Prefetch("assumptions", queryset=ScenarioAssumption.objects.order_by("order"))
    )
    if status:
        scenarios = scenarios.filter(status=status.lower())
    if name:
        scenarios = scenarios.filter(name__icontains=name)
    if tag:
        scenarios = scenarios.filter(tags__contains=[tag])
    if created_after:
        scenarios = scenarios.filter(created_at__gte=created_after)
    if created_before:
        scenarios = scenarios.filter(created_at__lte=created_before)
    return scenarios.order_by("-created_at", "-id")


def _uuid_or_404(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFoundError(f"No such {what}.") from None


def scenario_get(*, scenario_id: str) -> Scenario:
    scenario = scenario_list().filter(pk=_uuid_or_404(scenario_id, "scenario")).first()
    if scenario is None:
        raise NotFoundError("No such scenario.")
    return scenario


def run_list(
    *,
    scenario: Scenario | None = None,
    status: str | None = None,
    queued_after: datetime | None = None,
    queued_before: datetime | None = None,
) -> QuerySet[ScenarioRun]:
    """Runs (of one scenario), newest first; ``status`` takes the v1 spelling ``timeout`` too."""
    runs = ScenarioRun.objects.all()
    if scenario is not None:
        runs = runs.filter(scenario=scenario)
    if status:
        status = status.lower()
        runs = runs.filter(status="timed_out" if status == "timeout" else status)
    if queued_after:
        runs = runs.filter(queued_at__gte=queued_after)
    if queued_before:
        runs = runs.filter(queued_at__lte=queued_before)
    return runs.order_by("-queued_at", "-id")


def run_get(*, run_id: str, scenario: Scenario | None = None) -> ScenarioRun:
    run = run_list(scenario=scenario).filter(pk=_uuid_or_404(run_id, "run")).first()
    if run is None:
        raise NotFoundError("No such run.")
    return run


def scenario_latest_succeeded_run(*, scenario: Scenario) -> ScenarioRun | None:
    """The scenario's most recently completed succeeded run, or None."""
    return (
        ScenarioRun.objects.filter(scenario=scenario, status=ScenarioRun.Status.SUCCEEDED)
        .order_by("-completed_at", "-id")
        .first()
    )


def scenario_succeeded_runs(*, scenario: Scenario, limit: int) -> list[ScenarioRun]:
    """The scenario's latest ``limit`` succeeded runs, most recently completed first."""
    runs = ScenarioRun.objects.filter(scenario=scenario, status=ScenarioRun.Status.SUCCEEDED)
    return list(runs.order_by("-completed_at", "-id")[:limit])


def run_metric_mean(*, tenant: Tenant, run: ScenarioRun, metric: str) -> float | None:
    """The mean of one metric over a succeeded run's rows; None without rows."""
    table = run_output_table(tenant=tenant, run=run, metric=metric)
    if table.num_rows == 0:
        return None
    value = pc.mean(table.column("value")).as_py()
    return float(value) if value is not None else None


# --- base curves (the run's input) ----------------------------------------------------------------------


class BaseCurvesError(Exception):
    """The run's curve selection reads nothing usable (no rows, or too many curves)."""


@dataclass(frozen=True)
class BaseCurves:
    curves: CurveSet
    asof: date
    units: dict[str, str]
    snapshot_id: int | None


def _filters(tenant: Tenant, inputs: Mapping[str, Any]) -> CurveFilters:
    base = CurveFilters(
        datasets=tuple(sorted(tenant_datasets(tenant=tenant))),
        curve_keys=tuple(inputs.get("curve_keys") or ()),
    )
    dimensions: dict[str, Any] = {k: str(v) for k, v in (inputs.get("curve_filter") or {}).items()}
    return dataclasses.replace(base, **dimensions)


BASE_CACHE_SIZE = 32
_base_cache: OrderedDict[tuple[object, ...], BaseCurves] = OrderedDict()
_base_cache_lock = threading.Lock()
# One read per key at a time: the threads that miss together (a bulk's first runs, up to a pool's size at
# once) wait for the first one's read instead of each reading the same curves (issue 14).
_base_reads: dict[tuple[object, ...], threading.Lock] = {}


def _base_cached(key: tuple[object, ...]) -> BaseCurves | None:
    with _base_cache_lock:
        cached = _base_cache.get(key)
        if cached is not None:
            _base_cache.move_to_end(key)
        return cached


def run_base_curves(*, run: ScenarioRun, tenant: Tenant) -> BaseCurves:
    """Every tenor of the run's curves at its base as-of (or the latest), read at the Iceberg snapshot
    recorded when it was submitted, so a rerun reads exactly the same numbers after newer ingests.

    A snapshot never changes, so the result is kept per (entitled datasets and curve selection, base as-of,
    snapshot) in a small per-process LRU: many runs of one scenario read the curves once per worker process,
    also when they start together (one thread reads, the others wait for it; a failed read is not kept, so
    each waiter then tries itself). The cached arrays are read-only."""
    filters = _filters(tenant, run.options["inputs"])
    if run.curve_snapshot_id is None:
        return _base_curves_read(run, filters)
    key = (filters, run.base_asof_requested, run.curve_snapshot_id)
    if (cached := _base_cached(key)) is not None:
        return cached
    with _base_cache_lock:
        reading = _base_reads.setdefault(key, threading.Lock())
    try:
        with reading:
            if (cached := _base_cached(key)) is not None:
                return cached
            base = _base_curves_read(run, filters)
            base.curves.mid.setflags(write=False)
            with _base_cache_lock:
                _base_cache[key] = base
                while len(_base_cache) > BASE_CACHE_SIZE:
                    _base_cache.popitem(last=False)
            return base
    finally:
        with _base_cache_lock:
            if _base_reads.get(key) is reading and not reading.locked():
                del _base_reads[key]


def _tenor_order(label: str, tenor: tuple[int, date | None, str]) -> tuple[int, bool, date, str]:
    return (tenor[0], tenor[1] is None, tenor[1] or date.min, label)


def _base_curves_read(run: ScenarioRun, filters: CurveFilters) -> BaseCurves:
    query = (
        curves_asof(filters, run.base_asof_requested) if run.base_asof_requested else curves_latest(filters)
    ).pinned(run.curve_snapshot_id)
    result: QueryResult = get_engine().query(query)
    table = result.table.filter(pc.is_valid(result.table.column("mid")))
    if table.num_rows == 0:
        raise BaseCurvesError(
            "No curve rows match the scenario's curves and base as-of (or they are not licensed)."
        )
    keys = sorted(set(table.column("curve_key").to_pylist()))
    if len(keys) > MAX_CURVES:
        raise BaseCurvesError(f"The selection matches {len(keys)} curves; at most {MAX_CURVES} per run.")
    labels = table.column("tenor_label").to_pylist()
    months = table.column("contract_month").to_pylist()
    types = table.column("tenor_type").to_pylist()
    tenors: dict[str, tuple[int, date | None, str]] = {}
    for label, month, kind in zip(labels, months, types, strict=True):
        tenors.setdefault(label, (TENOR_TYPE_ORDER.get(kind, 9), month, kind))
    # A tenor the vendor names without a month (contract_month null) sorts after the dated ones of its type.
    grid = sorted(tenors, key=lambda label: _tenor_order(label, tenors[label]))
    tenor_index = {label: i for i, label in enumerate(grid)}
    curve_index = {key: i for i, key in enumerate(keys)}
    mid = np.full((len(keys), len(grid)), np.nan)
    rows = np.array([curve_index[k] for k in table.column("curve_key").to_pylist()], dtype=np.int64)
    cols = np.array([tenor_index[label] for label in labels], dtype=np.int64)
    mid[rows, cols] = table.column("mid").to_numpy(zero_copy_only=False)
    units: dict[str, str] = {}
    for key, currency, per_unit in zip(
        table.column("curve_key").to_pylist(),
        table.column("currency").to_pylist(),
        table.column("per_unit").to_pylist(),
        strict=True,
    ):
        units.setdefault(key, f"{currency or ''}/{per_unit or ''}".strip("/"))
    curves = CurveSet(
        curve_keys=tuple(keys),
        tenor_labels=tuple(grid),
        contract_months=np.array([tenors[label][1] for label in grid], dtype="datetime64[M]"),
        mid=mid,
        tenor_types=tuple(tenors[label][2] for label in grid),
    )
    asof = max(table.column("asof_date").to_pylist())
    return BaseCurves(
        curves=curves, asof=asof, units=units, snapshot_id=result.snapshot_ids.get(query.scans[0].table)
    )


# --- outputs ---------------------------------------------------------------------------------------------


def _empty_outputs() -> pa.Table:
    from apps.scenarios.engine import SCENARIO_OUTPUT_SCHEMA

    return SCENARIO_OUTPUT_SCHEMA.empty_table()


def _outputs_query(query: LakehouseQuery) -> pa.Table:
    """Run a read of the tenant's outputs; a tenant whose table does not exist yet has none. The engine's
    cached table lookup answers that: no separate catalog load per request."""
    try:
        return get_engine().query(query).table
    except NoSuchTableError:
        return _empty_outputs()


def run_output_table(*, tenant: Tenant, run: ScenarioRun, metric: str | None = "mid") -> pa.Table:
    """That run's rows of the tenant's scenario_output table (one metric, or all with metric=None), ordered
    by curve_key, tenor_label, contract_month, metric; empty unless the run succeeded."""
    if run.status != ScenarioRun.Status.SUCCEEDED:
        return _empty_outputs()
    query = run_outputs_query(
        table=output_table_name(tenant.schema_name),
        scenario_id=str(run.scenario_id),
        run_id=str(run.pk),
        snapshot_id=run.output_snapshot_id,
        metric=metric or None,
    )
    return _outputs_query(query)


@dataclass(frozen=True)
class OutputFilters:
    metric: str | None = None
    tenor_type: str | None = None
    curve_key: str | None = None


def run_outputs_page(
    *, tenant: Tenant, run: ScenarioRun, filters: OutputFilters, limit: int | None, offset: int = 0
) -> pa.Table:
    """A page of a run's output rows (``limit`` None: all of them), in the keyset order of spec 3.1."""
    if run.status != ScenarioRun.Status.SUCCEEDED:
        return _empty_outputs().select(list(OUTPUT_COLUMNS))
    query = run_outputs_query(
        table=output_table_name(tenant.schema_name),
        scenario_id=str(run.scenario_id),
        run_id=str(run.pk),
        snapshot_id=run.output_snapshot_id,
        columns=OUTPUT_COLUMNS,
        metric=filters.metric,
        tenor_type=filters.tenor_type,
        curve_key=filters.curve_key,
        limit=limit,
        offset=offset,
    )
    return _outputs_query(query).select(list(OUTPUT_COLUMNS))


def runs_compare(*, tenant: Tenant, run: ScenarioRun, other: ScenarioRun, metric: str = "mid") -> pa.Table:
    """Per curve and tenor: this run's value, the other run's, ``delta = other - value`` and
    ``delta_pct = delta / value`` (a fraction; null when value is 0). Inner join: tenors both runs have."""
    if run.status != ScenarioRun.Status.SUCCEEDED or other.status != ScenarioRun.Status.SUCCEEDED:
        return pa.table({name: pa.array([], pa.string()) for name in COMPARE_COLUMNS})
    query = runs_compare_query(
        table=output_table_name(tenant.schema_name),
        run=(str(run.scenario_id), str(run.pk), run.output_snapshot_id),
        other=(str(other.scenario_id), str(other.pk), other.output_snapshot_id),
        metric=metric,
    )
    return get_engine().query(query).table


# --- the portal's lists -----------------------------------------------------------------------------------


def scenario_last_runs(*, scenarios: list[Scenario]) -> dict[uuid.UUID, ScenarioRun]:
    """The newest run (by queue time) of each of ``scenarios``, keyed by scenario id, in one query."""
    runs = (
        ScenarioRun.objects.filter(scenario__in=[scenario.pk for scenario in scenarios])
        .order_by("scenario_id", "-queued_at", "-id")
        .distinct("scenario_id")
    )
    return {run.scenario_id: run for run in runs}


def runs_succeeded_recent(*, limit: int = 50) -> list[ScenarioRun]:
    """The tenant's latest ``limit`` succeeded runs (any scenario), newest first, with their scenario."""
    runs = ScenarioRun.objects.filter(status=ScenarioRun.Status.SUCCEEDED).select_related("scenario")
    return list(runs.order_by("-completed_at", "-id")[:limit])
