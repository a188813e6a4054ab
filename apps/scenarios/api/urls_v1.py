from django.urls import path

from apps.scenarios.api import v1, v1_admin

urlpatterns = [
    path("scenarios", v1.ScenarioListApi.as_view(), name="v1-scenarios"),
    path("scenarios/runs/<str:run_id>/cancel", v1.RunCancelApi.as_view(), name="v1-scenario-run-cancel"),
    path("scenarios/runs/<str:run_id>/state", v1_admin.RunStateApi.as_view(), name="v1-scenario-run-state"),
    path("scenarios/<str:scenario_id>", v1.ScenarioDetailApi.as_view(), name="v1-scenario"),
    path("scenarios/<str:scenario_id>/run", v1.ScenarioRunApi.as_view(), name="v1-scenario-run"),
    path("scenarios/<str:scenario_id>/runs", v1.ScenarioRunListApi.as_view(), name="v1-scenario-runs"),
    path("scenarios/<str:scenario_id>/runs:bulk", v1.ScenarioBulkRunsApi.as_view(), name="v1-scenario-bulk"),
    path(
        "scenarios/<str:scenario_id>/runs/<str:run_id>",
        v1.ScenarioRunDetailApi.as_view(),
        name="v1-scenario-run-detail",
    ),
    path("scenarios/<str:scenario_id>/outputs", v1.ScenarioOutputsApi.as_view(), name="v1-scenario-outputs"),
    path(
        "scenarios/<str:scenario_id>/metrics/latest",
        v1.ScenarioMetricsLatestApi.as_view(),
        name="v1-scenario-metrics-latest",
    ),
    path(
        "admin/cache/scenario/<str:scenario_id>/invalidate",
        v1_admin.ScenarioCacheInvalidateApi.as_view(),
        name="v1-admin-cache-scenario-invalidate",
    ),
]
