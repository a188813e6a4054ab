"""The vendor EOD datasets' contracts (decision 0035): one per vendor, ``vendor:{CODE}``.

Each business day's workbook (file stamps at 14:30 London) is expected by 14:30 Europe/London and late 150
minutes after (17:00: the default ``AURUM_PUBLICATION_DEADLINES`` of EUGP). The schema is the observation
table's; the quality rules are the ones the validate stage already applies (``parsers.quality``: the spec's
seven reasons and the quarantining rules), so "enforced at write" is that stage plus the schema check before
the slice is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pyarrow as pa

from apps.ingestion.parsers.errors import ContractSchemaError
from apps.ingestion.parsers.quality import RULES
from apps.ingestion.parsers.workbook import VENDORS
from aurum.datasets.calendars import EUROPEAN_EOD
from aurum.datasets.contracts import DatasetContract, schema_violations
from aurum.lakehouse.tables import CURVE_OBSERVATION_ARROW

EOD_SLA_MINUTES = 150


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

EOD_CONTRACTS: tuple[DatasetContract, ...] = tuple(
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


def eod_contract_enforce(*, dataset: str, published: pa.Table) -> None:
    """Raise ContractSchemaError (the run fails with its reason, nothing is written) when ``published``
    breaks ``dataset``'s contract; a dataset without a contract is not checked."""
    contract = next((c for c in EOD_CONTRACTS if c.id == dataset), None)
    if contract is None:
        return
    problems = schema_violations(contract, published)
    if problems:
        raise ContractSchemaError(f"The rows break the {dataset} contract: {'; '.join(problems)}.")
