"""The vendor EOD datasets' contracts (decision 0035): one per vendor, ``vendor:{CODE}``.

Each business day's workbook (file stamps at 14:30 London) is expected by 14:30 Europe/London and late 150
minutes after (17:00 London). The contract is the one notion of lateness (decision 0041): the older
``AURUM_PUBLICATION_DEADLINES`` / ``AURUM_PUBLICATION_DEADLINE_UTC`` (a UTC deadline per dataset) are read for
one more release only, each mapped onto its contract (due at that UTC time) with a deprecation warning at
start. The schema is the observation
table's; the quality rules are the ones the validate stage already applies (``parsers.quality``: the spec's
seven reasons and the quarantining rules), so "enforced at write" is that stage plus the schema check before
the slice is written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

import pyarrow as pa
import structlog
from django.conf import settings

from apps.ingestion.parsers.errors import ContractSchemaError
from apps.ingestion.parsers.quality import RULES
from apps.ingestion.parsers.workbook import VENDORS
from aurum.datasets.calendars import EUROPEAN_EOD
from aurum.datasets.contracts import DatasetContract, schema_violations
from aurum.lakehouse.tables import CURVE_OBSERVATION_ARROW

EOD_SLA_MINUTES = 150
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReasonRule:
    name: str
    description: str


# The spec's reasons (parsers.quality.spec_reasons): a row with any of them is quarantined.
SPEC_REASONS = (
    ReasonRule("missing_units_raw", "the row names its units"),
    ReasonRule("missing_currency", "the row names its currency"),
    ReasonRule("missing_per_unit", "the row names its per-unit"),
    ReasonRule("missing_curve_key", "the row has a curve key"),
    ReasonRule("invalid_price_type", "price type is one of the known ones"),
    ReasonRule("invalid_tenor_type", "tenor type is one of the known ones"),
    ReasonRule("missing_measurement", "one of value, bid, ask or mid is present"),
)
REQUIRED = ("curve_key", "asof_date", "tenor_label", "dataset", "ingest_run_id")

_DECLARED: tuple[DatasetContract, ...] = tuple(
    DatasetContract(
        id=f"vendor:{code}",
        title=f"{code} end-of-day forward curves",
        kind="vendor_eod",
        licence=f"vendor:{code}",
        schema=CURVE_OBSERVATION_ARROW,
        required=REQUIRED,
        calendar=EUROPEAN_EOD,
        publish_at=time(14, 30),
        zone="Europe/London",
        sla_minutes=EOD_SLA_MINUTES,
        rules=(*SPEC_REASONS, *[rule for rule in RULES if rule.quarantines]),
    )
    for code in VENDORS
)


def legacy_deadline_apply(contract: DatasetContract, deadline: time) -> DatasetContract:
    """``contract`` due at ``deadline`` UTC each publication day (the deprecated settings' meaning): expected
    its SLA before that, in UTC (the SLA shortened when the deadline is earlier in the day than the SLA)."""
    minutes = deadline.hour * 60 + deadline.minute
    sla = min(contract.sla_minutes, minutes)
    expected = (datetime.combine(datetime.min, deadline) - timedelta(minutes=sla)).time()
    return replace(contract, publish_at=expected, zone="UTC", sla_minutes=sla)


def legacy_deadlines() -> dict[str, time]:
    """The deprecated settings' deadlines per vendor dataset (those set explicitly only)."""
    fallback = settings.AURUM_PUBLICATION_DEADLINE_UTC
    named: dict[str, str] = settings.AURUM_PUBLICATION_DEADLINES
    found = {c.id: time.fromisoformat(fallback) for c in _DECLARED} if fallback else {}
    found.update({dataset: time.fromisoformat(value) for dataset, value in named.items()})
    return found


def legacy_deadlines_warn() -> None:
    """Say at start that the deprecated settings are set (and what they now mean)."""
    deadlines = legacy_deadlines()
    if deadlines:
        log.warning(
            "deprecated setting: AURUM_PUBLICATION_DEADLINES / AURUM_PUBLICATION_DEADLINE_UTC are read "
            "for this release only; each deadline now sets its dataset contract's due time (UTC). Remove "
            "them (the contracts in apps/ingestion/contracts.py are the one notion of lateness).",
            deadlines={dataset: at.isoformat("minutes") for dataset, at in sorted(deadlines.items())},
        )


def _with_legacy_deadlines(contracts: tuple[DatasetContract, ...]) -> tuple[DatasetContract, ...]:
    deadlines = legacy_deadlines()
    return tuple(legacy_deadline_apply(c, deadlines[c.id]) if c.id in deadlines else c for c in contracts)


EOD_CONTRACTS: tuple[DatasetContract, ...] = _with_legacy_deadlines(_DECLARED)


def eod_contract_enforce(*, dataset: str, published: pa.Table) -> None:
    """Raise ContractSchemaError (the run fails with its reason, nothing is written) when ``published``
    breaks ``dataset``'s contract; a dataset without a contract is not checked."""
    contract = next((c for c in EOD_CONTRACTS if c.id == dataset), None)
    if contract is None:
        return
    problems = schema_violations(contract, published)
    if problems:
        raise ContractSchemaError(f"The rows break the {dataset} contract: {'; '.join(problems)}.")
