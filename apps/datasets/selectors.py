"""Reads of dataset freshness and backfills.

A publication has *landed* when its vintage is stored: for a vendor EOD dataset a published ingest run of the
period's day; for a feed a watermark at or past the period's end; for an intraday feed a succeeded fetch whose
window covers the interval (the watermark only says the newest interval landed, not that none before it is
missing). A dataset's status is its latest
publication past the SLA: ``on_time`` when it landed (or none is due yet), ``late`` when it has not,
``recovered`` when it landed after going late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Max, QuerySet

from apps.datasets.models import Backfill, BackfillWindow, DatasetDayState
from apps.datasets.registry import contracts_visible
from apps.feeds.models import FetchRun, Watermark
from apps.ingestion.models import IngestRun
from aurum.datasets.contracts import DatasetContract, Publication
from aurum.errors import NotFoundError
from tenants.models import Tenant
from tenants.selectors import tenant_datasets


@dataclass(frozen=True)
class Landings:
    """What is stored, read once for many contracts."""

    eod_days: set[tuple[str, date]]  # (dataset, as-of) published
    eod_last: dict[str, date]
    eod_landed_at: dict[str, datetime]
    watermarks: dict[tuple[str, str], Watermark]
    # Intraday feeds: the windows of their succeeded fetches since the first day read.
    fetched: dict[tuple[str, str], list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def landed(self, contract: DatasetContract, publication: Publication) -> bool:
        if contract.kind == "vendor_eod":
            return (contract.id, publication.period.first_day) in self.eod_days
        if contract.intraday:
            period = publication.period
            windows = self.fetched.get((contract.provider, contract.dataset), [])
            return any(start <= period.start and end >= period.end for start, end in windows)
        mark = self.watermarks.get((contract.provider, contract.dataset))
        return mark is not None and mark.fetched_until >= publication.period.end

    def last_vintage(self, contract: DatasetContract) -> dict[str, object] | None:
        if contract.kind == "vendor_eod":
            last = self.eod_last.get(contract.id)
            return None if last is None else {"asof_date": last, "landed_at": self.eod_landed_at[contract.id]}
        mark = self.watermarks.get((contract.provider, contract.dataset))
        return None if mark is None else {"fetched_until": mark.fetched_until, "landed_at": mark.updated_at}


def intraday_fetched(
    *, contracts: list[DatasetContract], since: datetime
) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
    """The windows of the succeeded fetches of the intraday ``contracts`` ending after ``since`` (one query;
    none without an intraday contract)."""
    keys = {(c.provider, c.dataset) for c in contracts if c.kind == "feed" and c.intraday}
    found: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {key: [] for key in keys}
    if not keys:
        return found
    runs = FetchRun.objects.filter(
        status=FetchRun.Status.SUCCEEDED,
        provider__in={p for p, _ in keys},
        dataset__in={d for _, d in keys},
        window_end__gt=since,
    ).values_list("provider", "dataset", "window_start", "window_end")
    for provider, dataset, start, end in runs:
        if (provider, dataset) in found:
            found[(provider, dataset)].append((start, end))
    return found


def landings_read(
    *, contracts: list[DatasetContract], since: date, intraday_since: datetime | None = None
) -> Landings:
    """The stored vintages of ``contracts`` (EOD days from ``since``; intraday fetches ending after
    ``intraday_since``, else after ``since``): three queries, a fourth when an intraday contract is among
    them."""
    eod = [c.id for c in contracts if c.kind == "vendor_eod"]
    published = IngestRun.objects.filter(dataset__in=eod, status__in=IngestRun.PUBLISHED)
    days = set(published.filter(asof_date__gte=since).values_list("dataset", "asof_date").distinct())
    last = {
        row["dataset"]: row
        for row in published.values("dataset").annotate(asof=Max("asof_date"), at=Max("finished_at"))
    }
    feeds = {(c.provider, c.dataset) for c in contracts if c.kind == "feed"}
    marks = {
        (m.provider, m.dataset): m
        for m in Watermark.objects.filter(provider__in={p for p, _ in feeds})
        if (m.provider, m.dataset) in feeds
    }
    return Landings(
        eod_days={(d, day) for d, day in days if day is not None},
        eod_last={d: row["asof"] for d, row in last.items() if row["asof"] is not None},
        eod_landed_at={d: row["at"] for d, row in last.items()},
        watermarks=marks,
        fetched=intraday_fetched(
            contracts=contracts, since=intraday_since or datetime.combine(since, time(0), tzinfo=UTC)
        ),
    )


def state_key(contract: DatasetContract, publication: Publication) -> tuple[str, date, datetime | None]:
    """What identifies a publication's freshness state: (dataset, day), and the interval when intraday."""
    return (contract.id, publication.day, publication.period.start if contract.intraday else None)


def publication_due(contract: DatasetContract, now: datetime) -> Publication | None:
    """The latest publication whose SLA has passed at ``now``."""
    return contract.latest_expected(now - timedelta(minutes=contract.sla_minutes))


@dataclass(frozen=True)
class DatasetStatus:
    contract: DatasetContract
    status: str  # on_time, late, recovered
    due: Publication | None
    next_expected: Publication
    last_vintage: dict[str, object] | None
    state: DatasetDayState | None  # the day's late / recovered record, when it went late


def dataset_status_list(*, contracts: list[DatasetContract], now: datetime) -> list[DatasetStatus]:
    """Each contract's status at ``now`` (four queries however many contracts)."""
    due = {c.id: publication_due(c, now) for c in contracts}
    since = min((p.period.first_day for p in due.values() if p is not None), default=now.date())
    intervals = [p.period.start for c in contracts if c.intraday and (p := due[c.id]) is not None]
    landings = landings_read(contracts=contracts, since=since, intraday_since=min(intervals, default=None))
    days = {state_key(c, p) for c in contracts if (p := due[c.id]) is not None}
    states = {
        key: s
        for s in DatasetDayState.objects.filter(
            dataset__in=[c.id for c in contracts], publication_day__gte=since - timedelta(days=1)
        )
        if (key := (s.dataset, s.publication_day, s.period_start)) in days
    }
    found = []
    for contract in contracts:
        publication = due[contract.id]
        state = states.get(state_key(contract, publication)) if publication else None
        if publication is None:
            status = "on_time"
        elif not landings.landed(contract, publication):
            status = "late"
        else:
            status = "recovered" if state is not None else "on_time"
        found.append(
            DatasetStatus(
                contract=contract,
                status=status,
                due=publication,
                next_expected=contract.next_expected(now),
                last_vintage=landings.last_vintage(contract),
                state=state,
            )
        )
    return found


def dataset_status_for_tenant(
    *, tenant: Tenant, now: datetime, licensed: frozenset[str] | None = None
) -> list[DatasetStatus]:
    """The statuses of the datasets ``tenant`` licenses (every dataset for operators); ``licensed`` is the
    tenant's datasets when the caller read them already."""
    datasets = tenant_datasets(tenant=tenant) if licensed is None else licensed
    contracts = contracts_visible(datasets=datasets, operator=tenant.is_operator)
    return dataset_status_list(contracts=contracts, now=now)


def dataset_status_get(*, tenant: Tenant, dataset_id: str, now: datetime) -> DatasetStatus:
    """One dataset's status; NotFoundError when unknown or not licensed, alike."""
    contracts = contracts_visible(datasets=tenant_datasets(tenant=tenant), operator=tenant.is_operator)
    contract = next((c for c in contracts if c.id == dataset_id), None)
    if contract is None:
        raise NotFoundError(f"No dataset '{dataset_id}'.")
    return dataset_status_list(contracts=[contract], now=now)[0]


EOD_PREFIX = "vendor:"


@dataclass(frozen=True)
class EodDatasetState:
    """A licensed vendor dataset on the portal's pages: its curves, latest as-of and contract status (the one
    notion of lateness; decision 0041 retired the settings deadline)."""

    name: str
    curves: int
    last_asof: date | None
    status: DatasetStatus | None  # None: no contract declares the dataset

    @property
    def late(self) -> bool:
        return self.status is not None and self.status.status == "late"


def eod_dataset_states(
    *, licensed: frozenset[str], statuses: list[DatasetStatus], summaries: dict[str, dict[str, object]]
) -> list[EodDatasetState]:
    """The vendor EOD datasets among ``licensed`` by name, each with its status among ``statuses``
    (``dataset_status_for_tenant``) and its entry of ``summaries`` (``curve_dataset_summaries``)."""
    by_id = {s.contract.id: s for s in statuses}
    return [
        EodDatasetState(
            name=name,
            curves=int(summaries.get(name, {}).get("curves", 0)),  # type: ignore[call-overload]
            last_asof=summaries.get(name, {}).get("last_asof"),  # type: ignore[arg-type]
            status=by_id.get(name),
        )
        for name in sorted(d for d in licensed if d.startswith(EOD_PREFIX))
    ]


def dataset_lateness_seconds(*, now: datetime) -> dict[tuple[str, ...], float]:
    """Seconds each dataset is late at ``now`` by its contract (since its latest publication's SLA passed
    without the vintage; 0 when on time or recovered), keyed by ``(dataset,)`` for the
    ``aurum_dataset_late_seconds`` gauge (``dataset_status_list``'s queries)."""
    statuses = dataset_status_list(contracts=contracts_visible(datasets=frozenset(), operator=True), now=now)
    return {
        (s.contract.id,): max(0.0, (now - s.due.due_at).total_seconds())
        if s.status == "late" and s.due is not None
        else 0.0
        for s in statuses
    }


def backfill_list(*, tenant: Tenant) -> QuerySet[Backfill]:
    """Backfills are the platform operators' work: every one for an operator tenant, none for a customer."""
    backfills = Backfill.objects.select_related("requested_by")
    return backfills.order_by("-created", "-id") if tenant.is_operator else backfills.none()


def backfill_get(*, tenant: Tenant, backfill_id: int) -> Backfill:
    backfill = backfill_list(tenant=tenant).filter(pk=backfill_id).first()
    if backfill is None:
        raise NotFoundError("No such backfill.")
    return backfill


def backfill_window_counts(backfills: list[Backfill]) -> list[Backfill]:
    """Set ``window_counts`` ({status: n}) on each backfill (one query for all of them)."""
    counts: dict[int, dict[str, int]] = {b.pk: {} for b in backfills}
    rows = (
        BackfillWindow.objects.filter(backfill__in=list(counts))
        .values("backfill", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["backfill"]][row["status"]] = row["n"]
    for backfill in backfills:
        backfill.window_counts = counts[backfill.pk]  # type: ignore[attr-defined]
    return backfills


def operator_schema(*, schema_name: str | None = None) -> str:
    """The schema of the operator tenant (``schema_name``, else the first): the ledger a backfill started
    outside a request is recorded in. NotFoundError when there is no such operator tenant."""
    operators = Tenant.objects.filter(is_operator=True).order_by("pk")
    if schema_name:
        operators = operators.filter(schema_name=schema_name)
    found = operators.values_list("schema_name", flat=True).first()
    if found is None:
        raise NotFoundError("No operator tenant" + (f" '{schema_name}'." if schema_name else "."))
    return found
