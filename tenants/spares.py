"""Spare tenant schemas: provisioning takes a schema cloned ahead of need (docs/decisions/0049).

Cloning the migrated template (django-tenants' CloneSchema, one plpgsql call per table, index and sequence)
is most of a provisioning's time. A few spares are cloned in the background (a task on the maintenance
queue, refilled after each one is taken, and by ``platform_migrate``); ``tenant_create`` claims one with
``FOR UPDATE SKIP LOCKED`` and renames it inside its own transaction, so a rolled-back provisioning puts the
spare back and two provisionings never get the same one. A spare is used only while its applied migrations
are exactly the template's; otherwise provisioning clones the template as before.

Renaming is safe for what tenant schemas hold (tables, indexes, identity sequences, triggers calling public
functions): Postgres refers to them by OID, never by schema name.
"""

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import quote_schema_name, schema_exists

from aurum.lakehouse.locks import advisory_xact_try_lock
from aurum.tenancy.db import tenant_connection
from tenants.models import SpareSchema

log = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
FILL_LOCK = "tenant-spares-fill"


def _migrations_match_template(cursor, schema_name: str) -> bool:
    """True when ``schema_name`` records exactly the migrations the template records (both ways)."""
    template, spare = quote_schema_name(settings.TENANT_BASE_SCHEMA), quote_schema_name(schema_name)
    cursor.execute(
        f"SELECT NOT EXISTS (SELECT app, name FROM {template}.django_migrations"
        f"                   EXCEPT SELECT app, name FROM {spare}.django_migrations)"
        f"   AND NOT EXISTS (SELECT app, name FROM {spare}.django_migrations"
        f"                   EXCEPT SELECT app, name FROM {template}.django_migrations)"
    )
    return bool(cursor.fetchone()[0])


def spare_take(schema_name: str) -> bool:
    """Rename a current spare to ``schema_name``; False when there is none. Needs the caller's transaction:
    rolled back with it, the spare is a spare again."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("spare_take needs a transaction (transaction.atomic)")
    for spare in SpareSchema.objects.select_for_update(skip_locked=True)[:3]:
        with tenant_connection().cursor() as cursor:
            if not _migrations_match_template(cursor, spare.schema_name):
                continue  # stale: platform_migrate (or the next fill) drops it
            old, new = quote_schema_name(spare.schema_name), quote_schema_name(schema_name)
            cursor.execute(f"ALTER SCHEMA {old} RENAME TO {new}")
        spare.delete()
        return True
    return False


def _spare_drop(spare: SpareSchema) -> None:
    with tenant_connection().cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(spare.schema_name)} CASCADE")
    spare.delete()


def spares_fill(*, target: int | None = None) -> int:
    """Drop stale spares and clone new ones until ``target`` (``AURUM_TENANT_SPARE_SCHEMAS``) are current,
    in one transaction: the new spares appear together at commit. One filler at a time (another returns 0
    at once); spares being taken meanwhile are skipped, never waited for. Returns how many were cloned."""
    target = settings.AURUM_TENANT_SPARE_SCHEMAS if target is None else target
    template = settings.TENANT_BASE_SCHEMA
    cloned = 0
    with transaction.atomic():
        if not advisory_xact_try_lock(FILL_LOCK) or not schema_exists(template):
            return 0
        current = 0
        for spare in SpareSchema.objects.all():  # read without locks: a spare may be taken meanwhile
            with tenant_connection().cursor() as cursor:
                if schema_exists(spare.schema_name) and _migrations_match_template(cursor, spare.schema_name):
                    current += 1
                    continue
            stale = SpareSchema.objects.select_for_update(skip_locked=True).filter(pk=spare.pk).first()
            if stale is not None:
                log.info("dropping stale spare schema %s", stale.schema_name)
                _spare_drop(stale)
        while current + cloned < target:
            name = f"{SPARE_PREFIX}{secrets.token_hex(6)}"
            CloneSchema().clone_schema(template, name, "DATA")
            SpareSchema.objects.create(schema_name=name)
            cloned += 1
    tenant_connection().set_schema_to_public()
    return cloned


def spares_drop_all() -> int:
    """Drop every spare (tests, and a template rebuilt from scratch)."""
    dropped = 0
    with transaction.atomic():
        for spare in SpareSchema.objects.select_for_update():
            _spare_drop(spare)
            dropped += 1
    return dropped
