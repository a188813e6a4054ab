"""Every published dataset's contract (decision 0035), collected from the apps that write them: the vendor
EOD workbooks (``apps/ingestion/contracts.py``) and the feeds (``apps/feeds/contracts.py``)."""

from __future__ import annotations

from apps.feeds.contracts import FEED_CONTRACTS
from apps.ingestion.contracts import EOD_CONTRACTS
from aurum.datasets.contracts import DatasetContract
from aurum.errors import NotFoundError

CONTRACTS: dict[str, DatasetContract] = {c.id: c for c in (*EOD_CONTRACTS, *FEED_CONTRACTS)}


def contracts_visible(*, datasets: frozenset[str], operator: bool) -> list[DatasetContract]:
    """The contracts whose licence is among ``datasets`` (all of them for the platform's operators), by id."""
    return sorted((c for c in CONTRACTS.values() if operator or c.licence in datasets), key=lambda c: c.id)


def contract_get(
    *, dataset_id: str, datasets: frozenset[str] | None = None, operator: bool = True
) -> DatasetContract:
    """One contract; NotFoundError when unknown or (with ``datasets``) not licensed, alike."""
    contract = CONTRACTS.get(dataset_id)
    if contract is None or not (operator or datasets is None or contract.licence in datasets):
        raise NotFoundError(f"No dataset '{dataset_id}'.")
    return contract
