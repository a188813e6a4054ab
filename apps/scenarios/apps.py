from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "apps.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.scenarios.models import Scenario, ScenarioAssumption, ScenarioRun

        auditlog.register(Scenario)
        auditlog.register(ScenarioAssumption)
        # Progress ticks are not audit-worthy; state changes are (and are in ScenarioRunEvent too).
        auditlog.register(ScenarioRun, exclude_fields=["progress_percent"])
