# Decision 0033: chain version 2 (no personal data under the hash) and erasure of a person.

from django.db import migrations, models

# UPDATE is allowed only for what an erasure rewrites: on a version-2 entry, the fields outside its hash
# (the actor's display, the client address, ``personal``); on a version-1 entry, also ``changes`` and the
# display, and only while marking it ``redacted_by`` an erasure entry (verification then checks that entry
# lists it). Every hashed field, the hashes and the version stay as written; DELETE and TRUNCATE are refused.
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION public.audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.sequence, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.resource_type,
             NEW.resource_id, NEW.request_id, NEW.prev_hash, NEW.hash, NEW.version)
            IS NOT DISTINCT FROM
            (OLD.sequence, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.resource_type,
             OLD.resource_id, OLD.request_id, OLD.prev_hash, OLD.hash, OLD.version)
        AND (OLD.redacted_by IS NULL OR NEW.redacted_by IS NOT DISTINCT FROM OLD.redacted_by)
        AND (NEW.redacted_by IS NULL OR OLD.version = 1)
        AND (OLD.version >= 2 OR NEW.redacted_by IS NOT NULL
             OR (NEW.actor_display = OLD.actor_display AND NEW.remote_addr = OLD.remote_addr))
        AND (NEW.changes = OLD.changes OR (OLD.version = 1 AND NEW.redacted_by IS NOT NULL))
        AND (OLD.version >= 2 OR NEW.personal = OLD.personal)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit ledger is append-only: % refused on %.%', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""
TRIGGERS = """
DROP TRIGGER IF EXISTS audit_entry_no_update_delete ON audit_auditentry;
CREATE TRIGGER audit_entry_guard_update BEFORE UPDATE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION public.audit_entry_guard();
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION public.audit_entry_refuse();
"""
REVERSE = """
DROP TRIGGER IF EXISTS audit_entry_guard_update ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_entry_no_delete ON audit_auditentry;
CREATE TRIGGER audit_entry_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION public.audit_entry_refuse();
"""


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        # Entries already written are version 1 (their hash covers the actor's display); new ones are 2.
        migrations.AddField(
            model_name="auditentry",
            name="version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="personal",
            field=models.TextField(default="{}"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="redacted_by",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunSQL(GUARD_FUNCTION + TRIGGERS, REVERSE),
    ]
