from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "apps.reference"
    label = "reference"
    verbose_name = "Reference data"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.reference.models import (
            Block,
            Calendar,
            CalendarBlock,
            CalendarHoliday,
            Iso,
            IsoDataSource,
            IsoNode,
            Market,
            Product,
            UnitMapping,
        )

        for model in (
            UnitMapping,
            Calendar,
            CalendarHoliday,
            CalendarBlock,
            Iso,
            IsoDataSource,
            Market,
            IsoNode,
            Block,
            Product,
        ):
            auditlog.register(model)
