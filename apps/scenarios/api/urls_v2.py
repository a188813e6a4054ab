from django.urls import path

from apps.scenarios.api import v2

urlpatterns = [
    path("scenarios", v2.ScenariosApi.as_view(), name="v2-scenarios"),
    path("scenarios/<str:scenario_id>", v2.ScenarioApi.as_view(), name="v2-scenario"),
    path("scenarios/<str:scenario_id>/runs", v2.ScenarioRunsApi.as_view(), name="v2-scenario-runs"),
    path("scenario-runs/<str:run_id>", v2.RunApi.as_view(), name="v2-scenario-run"),
    path("scenario-runs/<str:run_id>/cancel", v2.RunCancelV2Api.as_view(), name="v2-scenario-run-cancel"),
    path("scenario-runs/<str:run_id>/outputs", v2.RunOutputsApi.as_view(), name="v2-scenario-run-outputs"),
    path("scenario-runs/<str:run_id>/compare", v2.RunCompareApi.as_view(), name="v2-scenario-run-compare"),
]
