from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.services import tenant_template_ensure
from tenants.spares import spares_fill


class Command(BaseCommand):
    help = "Migrate the public schema, the tenant template and every tenant schema; renew the spare schemas."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        tenant_template_ensure(verbosity=verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        # Spares cloned from an older template are dropped; new ones are cloned from this one.
        spares_fill()
        # The catalog's table of pointers, and the triggers that keep the web processes' row caches exact
        # (decision 0075): made here, by the deploy's migration role, so web processes find them made.
        from aurum.lakehouse.catalog import get_catalog
        from aurum.process_cache import triggers_ensure

        get_catalog()
        triggers_ensure()
        self.stdout.write(self.style.SUCCESS("Public, template and tenant schemas are migrated."))
