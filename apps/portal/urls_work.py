"""The portal's scenario and PPA pages (docs/portal.md, "Scenarios and PPA")."""

from django.urls import path

from apps.portal.ppa import views as ppa
from apps.portal.scenarios import runs, views

urlpatterns = [
    path("scenarios/", views.scenario_list_view, name="portal-scenarios"),
    path("scenarios/new/", views.scenario_create_view, name="portal-scenario-new"),
    path("scenarios/compare/", runs.scenario_compare_view, name="portal-scenario-compare"),
    path("scenarios/<str:scenario_id>/", views.scenario_detail_view, name="portal-scenario"),
    path("scenarios/<str:scenario_id>/edit/", views.scenario_edit_view, name="portal-scenario-edit"),
    path(
        "scenarios/<str:scenario_id>/run/", views.scenario_run_submit_view, name="portal-scenario-run-submit"
    ),
    path(
        "scenarios/<str:scenario_id>/runs/<str:run_id>/", runs.scenario_run_view, name="portal-scenario-run"
    ),
    path(
        "scenarios/<str:scenario_id>/runs/<str:run_id>/status/",
        runs.scenario_run_status_view,
        name="portal-scenario-run-status",
    ),
    path(
        "scenarios/<str:scenario_id>/runs/<str:run_id>/cancel/",
        runs.scenario_run_cancel_view,
        name="portal-scenario-run-cancel",
    ),
    path(
        "scenarios/<str:scenario_id>/runs/<str:run_id>/outputs.<str:fmt>",
        runs.scenario_run_outputs_view,
        name="portal-scenario-run-outputs",
    ),
    path("ppa/", ppa.ppa_contract_list_view, name="portal-ppa"),
    path("ppa/new/", ppa.ppa_contract_create_view, name="portal-ppa-new"),
    path("ppa/<str:contract_id>/", ppa.ppa_contract_detail_view, name="portal-ppa-contract"),
    path("ppa/<str:contract_id>/edit/", ppa.ppa_contract_edit_view, name="portal-ppa-edit"),
    path("ppa/<str:contract_id>/value/", ppa.ppa_valuate_view, name="portal-ppa-valuate"),
    path(
        "ppa/<str:contract_id>/valuations/<str:valuation_id>/",
        ppa.ppa_valuation_view,
        name="portal-ppa-valuation",
    ),
]
