"""Quarantine reasons (spec 5.1) and the declared business rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from apps.ingestion.parsers.quality import RULES, quarantine_split
from aurum.lakehouse.curve_schema import CURVE_TABLE_SCHEMA
from tests.support.rows import curve_row, curve_table, month_row

ALL_RULES = "ask_ge_bid|mid_within_bid_ask|no_duplicate_key|monthly_continuity"


def _reasons(rows: list[dict[str, Any]]) -> list[str | None]:
    clean, quarantined = quarantine_split(curve_table(rows))
    assert clean.num_rows + quarantined.num_rows == len(rows)
    return quarantined.column("quarantine_reason").to_pylist()


def test_a_good_row_is_clean_and_says_which_rules_it_passed() -> None:
    clean, quarantined = quarantine_split(curve_table([curve_row()]))

    assert quarantined.num_rows == 0
    assert clean.column("rules_passed").to_pylist() == [ALL_RULES]
    assert clean.column("rule_warnings").to_pylist() == [None]
    assert clean.column_names == [*CURVE_TABLE_SCHEMA.names, "rules_passed", "rule_warnings"]
    assert quarantined.column_names == [*CURVE_TABLE_SCHEMA.names, "quarantine_reason"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"units_raw": None}, "missing_units_raw"),
        ({"units_raw": "   "}, "missing_units_raw"),
        ({"currency": None}, "missing_currency"),
        ({"per_unit": ""}, "missing_per_unit"),
        ({"curve_key": None}, "missing_curve_key"),
        ({"price_type": "FORWARD"}, "invalid_price_type"),
        ({"tenor_type": "WEEKLY"}, "invalid_tenor_type"),
        ({"value": None, "bid": None, "ask": None, "mid": None}, "missing_measurement"),
    ],
)
def test_each_spec_reason(overrides: dict[str, Any], reason: str) -> None:
    assert _reasons([curve_row(**overrides)]) == [reason]


def test_reasons_are_pipe_joined_in_spec_order() -> None:
    row = curve_row(units_raw=None, currency=None, tenor_type="WEEKLY", curve_key="")

    assert _reasons([row]) == ["missing_units_raw|missing_currency|missing_curve_key|invalid_tenor_type"]


def test_ask_below_bid_is_quarantined() -> None:
    crossed = curve_row(bid=47.0, ask=46.5, mid=46.75, value=46.75)

    assert _reasons([crossed]) == ["ask_ge_bid|mid_within_bid_ask"]


@pytest.mark.parametrize(
    ("mid", "bid", "ask", "passes"),
    [
        (46.75, 46.69, 46.81, True),
        (46.8104, 46.69, 46.81, True),  # within the 0.0005 tolerance of 3-decimal vendor quotes
        (46.811, 46.69, 46.81, False),
        (46.60, 46.69, 46.81, False),
        (46.60, None, 46.81, True),  # nothing to compare with on the bid side
        (46.60, 46.69, None, False),
    ],
)
def test_mid_within_bid_ask(mid: float, bid: float | None, ask: float | None, passes: bool) -> None:
    reasons = _reasons([curve_row(mid=mid, value=mid, bid=bid, ask=ask)])

    assert reasons == ([] if passes else ["mid_within_bid_ask"])


def test_conflicting_rows_for_one_key_are_both_quarantined() -> None:
    rows = [curve_row(mid=46.75, value=46.75), curve_row(mid=46.70, value=46.70)]

    assert _reasons(rows) == ["no_duplicate_key", "no_duplicate_key"]


def test_exact_duplicates_collapse_to_one_clean_row() -> None:
    clean, quarantined = quarantine_split(curve_table([curve_row(), curve_row(), curve_row()]))

    assert (clean.num_rows, quarantined.num_rows) == (1, 0)


def test_the_same_key_on_another_day_or_tenor_is_not_a_duplicate() -> None:
    rows = [curve_row(), curve_row(asof_date=date(2025, 9, 11)), curve_row(tenor_label="2025-11")]

    assert _reasons(rows) == []


def test_a_monthly_gap_warns_but_does_not_quarantine() -> None:
    gapped = [month_row(date(2025, month, 1), 40.0 + month, location="Gap") for month in (10, 11, 12)]
    gapped.append(month_row(date(2026, 2, 1), 50.0, location="Gap"))  # January is missing
    continuous = [month_row(date(2025, month, 1), 30.0 + month, location="West") for month in (10, 11, 12)]
    strip = curve_row(location="Gap", tenor_type="CALENDAR", tenor_label="Calendar 2026", contract_month=None)

    clean, quarantined = quarantine_split(curve_table([*gapped, *continuous, strip]))

    assert quarantined.num_rows == 0
    warned = {
        (row["location"], row["tenor_label"]): (row["rule_warnings"], row["rules_passed"])
        for row in clean.to_pylist()
    }
    assert warned[("Gap", "2026-02")] == (
        "monthly_continuity",
        "ask_ge_bid|mid_within_bid_ask|no_duplicate_key",
    )
    assert warned[("Gap", "2025-10")][0] == "monthly_continuity"
    assert warned[("West", "2025-10")] == (None, ALL_RULES)
    assert warned[("Gap", "Calendar 2026")] == (None, ALL_RULES)  # the rule only looks at dated MONTHLY rows


def test_rule_registry_declares_names_descriptions_and_severity() -> None:
    declared = {rule.name: (rule.quarantines, bool(rule.description)) for rule in RULES}

    assert declared == {
        "ask_ge_bid": (True, True),
        "mid_within_bid_ask": (True, True),
        "no_duplicate_key": (True, True),
        "monthly_continuity": (False, True),
    }


def test_empty_table_splits_into_two_empty_tables() -> None:
    clean, quarantined = quarantine_split(curve_table([]))

    assert (clean.num_rows, quarantined.num_rows) == (0, 0)
