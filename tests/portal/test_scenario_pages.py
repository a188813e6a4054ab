"""``/scenarios/``: the list, the form per driver type with each service message next to its field, runs
with their live status, the P10/P50/P90 result and the attribution per driver, compare and downloads; the
API's permissions (viewers read, analysts run, traders write) and isolation (globex: 404)."""

import csv
import io
import re

import pyarrow.parquet as pq
import pytest
from django_tenants.utils import schema_context

from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.inputs import RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from tests.support.portal_work import POLICY, german_power_keys, run_make, scenario_make, tenant


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _error_next_to(html: str, input_id: str) -> str:
    """The error text rendered for ``input_id`` (its ``<span id="<input_id>_error">``)."""
    match = re.search(rf'<span class="error" id="{input_id}_error">(.*?)</span>', html, flags=re.S)
    return match.group(1).strip() if match else ""


# --- list --------------------------------------------------------------------------------------------------


def test_the_list_says_how_to_get_started_when_empty(portal):
    trader = portal("acme", "trader").get("/scenarios/")
    viewer = portal("acme", "viewer").get("/scenarios/")

    assert trader.status_code == viewer.status_code == 200
    assert "No scenarios yet." in _text(trader) and 'href="/scenarios/new/"' in trader.content.decode()
    assert "A trader or an admin of Acme Energy creates scenarios" in _text(viewer)
    assert 'href="/scenarios/new/"' not in viewer.content.decode()


def test_the_list_shows_each_scenario_with_its_state_and_last_run(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    run = run_make("acme", scenario)
    scenario_make("acme", "Never run", assumptions=[])

    html = portal("acme", "viewer").get("/scenarios/").content.decode()

    assert f'<a href="/scenarios/{scenario.pk}/">Carbon 2026</a>' in html
    # the run's badge is the whole link: no trailing space inside it (an underlined gap after the badge)
    badge = '<span class="badge badge-ok">succeeded</span>'
    assert f'href="/scenarios/{scenario.pk}/runs/{run.pk}/">{badge}</a>' in html
    assert "never run" in html
    assert "carbon, gas" in html  # its drivers, by label


def test_the_list_filters_by_name_and_answers_htmx_with_the_rows_only(portal):
    scenario_make("acme", "Carbon 2026", assumptions=[])
    scenario_make("acme", "Load growth", assumptions=[])
    client = portal("acme", "viewer")

    page = client.get("/scenarios/?q=carb").content.decode()
    fragment = client.get("/scenarios/?q=load", HTTP_HX_REQUEST="true").content.decode()

    assert "Carbon 2026" in page and "Load growth" not in page
    assert "Load growth" in fragment and "Carbon 2026" not in fragment and "<html" not in fragment


@pytest.mark.parametrize("count", [1, 6])
def test_the_list_reads_a_fixed_number_of_queries(portal, django_assert_num_queries, count):
    for index in range(count):
        run_make("acme", scenario_make("acme", f"S{index}", assumptions=[POLICY]))
    client = portal("acme", "viewer")
    client.get("/scenarios/")  # warm the session and tenant caches

    # the frame's 6 (search path, domain, session, user, membership, tenant search path) and the page's 4:
    # count, page of scenarios, their assumptions, their last runs
    with django_assert_num_queries(10):
        response = client.get("/scenarios/")

    assert response.status_code == 200 and response.content.decode().count("succeeded") == count


# --- create and edit ---------------------------------------------------------------------------------------


def test_the_form_offers_a_fieldset_per_driver_type_built_from_its_schema(portal):
    client = portal("acme", "trader")

    blank = client.get("/scenarios/new/").content.decode()
    with_policy = client.post(
        "/scenarios/new/", {"name": "X", "a-total": "0", "add": "", "add-type": "policy"}
    )
    html = with_policy.content.decode()

    assert '<option value="stochastic">stochastic</option>' in blank and "No assumptions yet." in blank
    # the curve filters suggest the values the licensed curves take
    assert 'list="id_filter-location_list"' in blank and '<option value="German">German (' in blank
    assert with_policy.status_code == 200
    assert '<input type="hidden" name="a-0-driver_type" value="policy">' in html
    assert (
        '<label for="id_a-0-policy_name">Policy name <span class="required">(required)</span></label>' in html
    )
    assert 'id="id_a-0-start_year"' in html and 'inputmode="numeric"' in html
    assert 'value="X"' in html  # what was typed stays


def test_creating_a_scenario_saves_it_through_the_service(portal, world):
    key = german_power_keys()[0]
    data = {
        "name": "Carbon 2026",
        "tags": "carbon, eu",
        "curve_keys": key,
        "a-total": "2",
        "a-0-driver_type": "policy",
        "a-0-name": "carbon",
        "a-0-policy_name": "carbon_tax",
        "a-0-start_year": "2026",
        "a-1-driver_type": "stochastic",
        "a-1-distribution_type": "lognormal",
        "a-1-parameters": '{"sigma": 0.3}',
        "a-1-base_driver": "{}",
        "save": "1",
    }

    response = portal("acme", "trader").post("/scenarios/new/", data)

    with schema_context("acme"):
        scenario = Scenario.objects.get(name="Carbon 2026")
        nodes = [a.as_node() for a in scenario.assumptions.all()]
    assert response.status_code == 302 and response["Location"] == f"/scenarios/{scenario.pk}/"
    assert scenario.tags == ["carbon", "eu"] and scenario.curve_keys == [key]
    assert nodes == [
        {
            "driver_type": "policy",
            "name": "carbon",
            "payload": {"policy_name": "carbon_tax", "start_year": 2026},
        },
        {
            "driver_type": "stochastic",
            "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.3}, "base_driver": {}},
        },
    ]


def test_each_validation_message_is_shown_next_to_its_field_and_nothing_is_saved(portal):
    data = {
        "name": "Bad",
        "a-total": "3",
        "a-0-driver_type": "fleet_change",
        "a-0-fleet_id": "F1",
        "a-0-change_type": "add",
        "a-0-effective_date": "2026-01-01",
        "a-0-capacity_mw": "-5",
        "a-1-driver_type": "load_growth",
        "a-1-annual_growth_pct": "two",
        "a-2-driver_type": "stochastic",
        "a-2-distribution_type": "normal",
        "a-2-parameters": "{sigma: 1",
        "a-2-base_driver": "{}",
        "save": "1",
    }

    response = portal("acme", "trader").post("/scenarios/new/", data)
    html = response.content.decode()

    assert response.status_code == 200  # the form again, with its messages
    assert "The scenario was not saved." in html
    assert _error_next_to(html, "id_a-1-annual_growth_pct") == "Enter a number, not &#x27;two&#x27;."
    assert _error_next_to(html, "id_a-2-parameters").startswith("This is not valid JSON")
    assert 'id="id_a-1-annual_growth_pct" name="a-1-annual_growth_pct" value="two"' in html
    with schema_context("acme"):
        assert not Scenario.objects.filter(name="Bad").exists()

    data.update({"a-1-annual_growth_pct": "2.5", "a-2-parameters": "{}"})
    response = portal("acme", "trader").post("/scenarios/new/", data)
    html = response.content.decode()

    # now the driver validator's messages, each under its field
    assert response.status_code == 200  # the form again, with its messages
    assert _error_next_to(html, "id_a-0-capacity_mw") == "capacity_mw must be &gt; 0; got -5"
    assert "normal needs parameter std" in _error_next_to(html, "id_a-2-parameters") or (
        "normal needs parameter std" in html
    )
    assert 'aria-invalid="true" aria-describedby="id_a-0-capacity_mw_help id_a-0-capacity_mw_error"' in html


def test_a_taken_name_is_said_next_to_the_name(portal):
    scenario_make("acme", "Carbon 2026", assumptions=[])

    response = portal("acme", "trader").post(
        "/scenarios/new/", {"name": "carbon 2026", "a-total": "0", "save": "1"}
    )

    assert response.status_code == 200  # the form again, with its messages
    assert "already exists. Choose another name." in _error_next_to(response.content.decode(), "id_name")


def test_removing_an_assumption_keeps_the_others_as_typed(portal):
    data = {
        "name": "X",
        "a-total": "2",
        "a-0-driver_type": "policy",
        "a-0-policy_name": "first",
        "a-1-driver_type": "policy",
        "a-1-policy_name": "second",
        "remove": "0",
    }

    html = portal("acme", "trader").post("/scenarios/new/", data).content.decode()

    assert 'name="a-0-policy_name" value="second"' in html and 'value="first"' not in html


def test_editing_changes_the_scenario_and_bumps_its_version(portal):
    scenario = scenario_make("acme", "Carbon 2026", assumptions=[POLICY])
    client = portal("acme", "trader")

    form = client.get(f"/scenarios/{scenario.pk}/edit/").content.decode()
    response = client.post(
        f"/scenarios/{scenario.pk}/edit/",
        {
            "name": "Carbon 2027",
            "status": "active",
            "curve_keys": "\n".join(scenario.curve_keys),
            "a-total": "1",
            "a-0-driver_type": "policy",
            "a-0-policy_name": "carbon_tax",
            "a-0-start_year": "2027",
            "save": "1",
        },
    )

    assert 'name="a-0-policy_name" value="carbon_tax"' in form and 'value="2026"' in form
    with schema_context("acme"):
        scenario.refresh_from_db()
        payload = scenario.assumptions.get().payload
    assert response.status_code == 302
    assert (scenario.name, scenario.status, scenario.version) == ("Carbon 2027", "active", 2)
    assert payload == {"policy_name": "carbon_tax", "start_year": 2027}


# --- permissions and isolation -------------------------------------------------------------------------


def test_viewers_and_analysts_cannot_write_and_viewers_cannot_run(portal):
    scenario = scenario_make("acme", "Carbon 2026", assumptions=[POLICY])
    viewer, analyst = portal("acme", "viewer"), portal("acme", "analyst")

    assert viewer.get("/scenarios/new/").status_code == 403
    assert analyst.post("/scenarios/new/", {"name": "Y", "a-total": "0", "save": "1"}).status_code == 403
    assert analyst.get(f"/scenarios/{scenario.pk}/edit/").status_code == 403
    assert viewer.post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "10"}).status_code == 403
    detail = viewer.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert "Run scenario" not in detail and "/edit/" not in detail
    with schema_context("acme"):
        assert not Scenario.objects.filter(name="Y").exists()
        assert not ScenarioRun.objects.filter(scenario=scenario).exists()


def test_another_tenants_scenarios_and_runs_are_404(portal):
    scenario = scenario_make("acme", "Carbon 2026", assumptions=[POLICY])
    run = run_make("acme", scenario)
    globex = portal("globex", "admin")

    for path in (
        f"/scenarios/{scenario.pk}/",
        f"/scenarios/{scenario.pk}/edit/",
        f"/scenarios/{scenario.pk}/runs/{run.pk}/",
        f"/scenarios/{scenario.pk}/runs/{run.pk}/status/",
        f"/scenarios/{scenario.pk}/runs/{run.pk}/outputs.csv",
        f"/scenarios/compare/?a={run.pk}&b={run.pk}",
    ):
        assert globex.get(path).status_code in (404,), path
    assert globex.post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "10"}).status_code == 404
    assert "Carbon 2026" not in globex.get("/scenarios/").content.decode()


# --- runs ---------------------------------------------------------------------------------------------------


def test_running_queues_a_run_and_opens_its_live_page(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    client = portal("acme", "analyst")

    response = client.post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "500", "seed": "11"})

    with schema_context("acme"):
        run = ScenarioRun.objects.get(scenario=scenario)
    assert response.status_code == 302 and response["Location"] == f"/scenarios/{scenario.pk}/runs/{run.pk}/"
    assert (run.status, run.seed, run.options["parameters"]["n_paths"]) == ("queued", 11, 500)
    page = client.get(response["Location"]).content.decode()
    assert 'data-run-live="#run-status"' in page and '<progress id="run-progress" max="100" value="0"' in page
    assert f'data-status-url="/scenarios/{scenario.pk}/runs/{run.pk}/status/"' in page
    status = client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/status/").json()
    assert status == {
        "run_id": str(run.pk),
        "status": "queued",
        "progress_percent": 0.0,
        "finished": False,
        "error_message": None,
        "error_code": None,
    }


def test_bad_run_options_are_said_next_to_their_field(portal):
    scenario = scenario_make("acme", "Carbon 2026")

    response = portal("acme", "analyst").post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "0", "seed": "x"})
    html = response.content.decode()

    assert response.status_code == 200  # the form again, with its messages
    assert _error_next_to(html, "id_n_paths") == "Paths must be between 1 and 100,000."
    assert _error_next_to(html, "id_seed") == "Enter a whole number, or leave it empty for a random seed."


def test_a_scenario_without_curves_says_what_to_do_before_running(portal):
    scenario = scenario_make("acme", "Nothing")
    with schema_context("acme"):
        Scenario.objects.filter(pk=scenario.pk).update(curve_keys=[])

    response = portal("acme", "analyst").post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "10"})

    assert response.status_code == 200  # the form again, with its messages
    assert "the scenario names no curves set curve_keys or curve_filter" in _text(response)


def test_a_succeeded_run_shows_the_band_chart_the_table_and_the_attribution(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    run = run_make("acme", scenario)
    client = portal("acme", "viewer")

    response = client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/")
    html = response.content.decode()

    assert response.status_code == 200
    spec = response.context["chart"]
    rows = response.context["result"].rows
    assert [s["role"] for s in spec["series"]] == ["p10", "p90", "ghost", "line"] and spec["bands"] == [
        [1, 0]
    ]
    assert spec["x_labels"] == [row.tenor_label for row in rows] and len(rows) > 12
    assert all(row.p10 <= row.p50 <= row.p90 for row in rows)
    # the policy adds len("carbon_tax") x 0.1 = 1.0 from 2026 on; the P50 less the base is the sum of the
    # drivers' contributions in every tenor
    for row in rows:
        assert row.deltas.get("carbon", 0.0) == pytest.approx(1.0 if row.contract_month.year >= 2026 else 0.0)
        assert row.p50 - row.base == pytest.approx(sum(row.deltas.values()))
    assert {a.component for a in response.context["result"].attribution} == {"carbon", "gas"}
    assert 'id="result-chart" data-chart="{&quot;' in html  # the spec travels in the attribute
    assert html.count('<tr><th scope="row">') >= len(rows)
    assert f'href="/scenarios/{scenario.pk}/runs/{run.pk}/outputs.csv"' in html


def test_a_runs_base_as_of_is_an_iso_date_on_the_scenario_and_the_run_page(portal):
    """Given a succeeded run, its base as-of reads YYYY-MM-DD in the scenario's runs table and on the run's
    page, as every other date of the portal (not the locale's "Dec. 3, 2026")."""
    scenario = scenario_make("acme", "Carbon ISO")
    run = run_make("acme", scenario)
    client = portal("acme", "viewer")

    listed = client.get(f"/scenarios/{scenario.pk}/").content.decode()
    page = client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/").content.decode()

    day = run.base_asof.isoformat()
    assert f"<td>{day}</td>" in listed
    assert f"<dt>Base as-of</dt><dd>{day}</dd>" in page
    assert run.base_asof.strftime("%b") not in listed + page


def test_outputs_download_as_csv_and_parquet_with_every_row(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    run = run_make("acme", scenario)
    client = portal("acme", "viewer")

    as_csv = client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/outputs.csv")
    as_parquet = client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/outputs.parquet")

    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    table = pq.read_table(io.BytesIO(as_parquet.content))
    assert as_csv["Content-Disposition"] == f'attachment; filename="scenario_run_{run.pk}.csv"'
    assert len(rows) == table.num_rows == run.output_rows
    assert {row["metric"] for row in rows} == {"mid", "uplift", "policy_uplift"}
    assert client.get(f"/scenarios/{scenario.pk}/runs/{run.pk}/outputs.xlsx").status_code == 404


def test_two_runs_compare_per_tenor(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    first = run_make("acme", scenario, seed=1)
    second = run_make("acme", scenario, seed=2)

    response = portal("acme", "viewer").get(f"/scenarios/compare/?a={first.pk}&b={second.pk}")

    rows = response.context["rows"]
    assert response.status_code == 200 and rows
    assert all(row.delta == pytest.approx(row.other_value - row.value) for row in rows)
    assert [s["role"] for s in response.context["chart"]["series"]] == ["line", "compare"]
    assert portal("acme", "viewer").get(f"/scenarios/compare/?a={first.pk}&b={first.pk}").status_code == 400
    # each run picker is wide enough (work.css: three columns) for "scenario · finished · seed" to show
    assert response.content.decode().count('<div class="field field-run"><label for=') == 2


def test_a_live_run_can_be_cancelled_by_who_may_run_it(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    client = portal("acme", "analyst")
    page = client.post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "10"})["Location"]
    run_id = page.rstrip("/").rsplit("/", 1)[1]

    refused = portal("acme", "viewer").post(f"{page}cancel/")
    with schema_context("acme"):
        assert ScenarioRun.objects.get(pk=run_id).status == "queued"
    response = client.post(f"{page}cancel/")

    with schema_context("acme"):
        assert ScenarioRun.objects.get(pk=run_id).status == "cancelled"
    assert refused.status_code == 403
    assert response.status_code == 302 and response["Location"] == page
    assert "This run cancelled" in _text(client.get(page))


def test_the_validators_warnings_are_shown_beside_their_assumption(portal):
    growth = {"driver_type": "load_growth", "payload": {"annual_growth_pct": 30}}
    scenario = scenario_make("acme", "Boom", assumptions=[growth])

    text = _text(portal("acme", "viewer").get(f"/scenarios/{scenario.pk}/"))

    assert (
        "Warning assumptions[0].payload.annual_growth_pct : 30% a year is far outside historical load growth"
        " — annual_growth_pct is a percent: 2.5 means 2.5%" in text
    )


def test_a_failed_run_says_why_and_what_to_do_next(portal):
    scenario = scenario_make("acme", "Too early")
    with schema_context("acme"):
        Scenario.objects.filter(pk=scenario.pk).update(base_asof="2020-01-02")
        scenario.refresh_from_db()

    with schema_context("acme"):
        submitted = scenario_run_submit(
            tenant=tenant("acme"), scenario=scenario, options=RunOptions(), actor=None
        )
        run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=tenant("acme"))
    assert run is not None and run.status == "failed"

    text = _text(portal("acme", "viewer").get(f"/scenarios/{scenario.pk}/runs/{run.pk}/"))

    assert "This run failed (NO_CURVE_ROWS)." in text
    assert "change the curves or the base as-of , then run again" in text


def test_compare_says_how_to_get_two_runs(portal):
    text = _text(portal("acme", "viewer").get("/scenarios/compare/"))

    assert "Two succeeded runs are needed." in text


def test_choosing_another_tenor_type_swaps_the_result_only(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    run = run_make("acme", scenario)
    path = f"/scenarios/{scenario.pk}/runs/{run.pk}/"

    fragment = portal("acme", "viewer").get(f"{path}?tenor=QUARTER", HTTP_HX_REQUEST="true")

    html = fragment.content.decode()
    rows = fragment.context["result"].rows
    assert fragment.status_code == 200 and "<html" not in html and 'id="result-chart"' in html
    assert fragment.context["tenor_type"] == "QUARTER" and rows
    assert all(row.tenor_label.startswith("Q") or "Q" in row.tenor_label for row in rows)
