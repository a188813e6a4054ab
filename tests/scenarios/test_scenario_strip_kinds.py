"""A run over curves whose strips are of both kinds: the vendor's own (EUGP's 'Strips - Mid' sheet: `Calendar
2026`, `Summer 2026`, no contract month) and those derived at ingest from monthly quotes (contract month set).
Found by the soak (issue 14): ordering the tenor grid compared a date with None and failed the run."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from apps.scenarios.selectors import run_output_table
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from tests.support.scenarios import POLICY
from tests.support.slices import read_slice


def test_a_run_over_vendor_strips_and_derived_strips_succeeds(in_acme, eugp_curves):
    rows = read_slice("vendor:EUGP", eugp_curves.asof)
    rows = rows.filter(pc.is_valid(rows.column("mid")))
    vendor_strips = rows.filter(pc.equal(rows.column("sheet_name"), "Strips - Mid"))
    fixed_key = eugp_curves.curve_keys[0]
    # Rows come ordered by curve_key and the grid takes a tenor's month from its first row: the curve with
    # derived strips first, so its dated calendars meet the vendor's `Calendar 2025` (no month, not derived).
    strip_key = min(key for key in vendor_strips.column("curve_key").to_pylist() if key > fixed_key)
    chosen = rows.filter(pc.is_in(rows.column("curve_key"), pa.array([fixed_key, strip_key])))
    calendars = chosen.filter(pc.equal(chosen.column("tenor_type"), "CALENDAR"))
    # given: CALENDAR tenors with and without a contract month among the run's curves
    assert {m is None for m in calendars.column("contract_month").to_pylist()} == {True, False}
    scenario = scenario_create(
        tenant=in_acme,
        name="Both strip kinds",
        actor=None,
        assumptions=[POLICY],
        selection=CurveSelection(curve_keys=(fixed_key, strip_key), base_asof=eugp_curves.asof),
    )
    submitted = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)

    run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=in_acme)

    assert run is not None and run.status == "succeeded", run and run.error_message
    mid = run_output_table(tenant=in_acme, run=run, metric="mid")
    written = sorted(
        zip(mid.column("curve_key").to_pylist(), mid.column("tenor_label").to_pylist(), strict=True)
    )
    expected = sorted(
        zip(chosen.column("curve_key").to_pylist(), chosen.column("tenor_label").to_pylist(), strict=True)
    )
    assert written == expected
