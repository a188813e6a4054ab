from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "apps.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.scenarios.models import Scenario, ScenarioAssumption

        auditlog.register(Scenario)
        auditlog.register(ScenarioAssumption)
        # Not ScenarioRun (decision 0050): every state change of a run is a ScenarioRunEvent, and its submit,
        # finish and cancel are in the audit ledger with their actor; a row history beside them cost two
        # queries per save (issue 14).
