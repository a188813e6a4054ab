"""Rewriting a person's identity in a schema's rows: every text and JSON column of every table (the audit
ledger excepted: ``apps.offboarding.erasure`` rewrites it within what its trigger allows)."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.db import connection
from psycopg import sql

PSEUDONYM_DOMAIN = "invalid"
TEXT_TYPES = ("text", "character varying", "json", "jsonb")
LEDGER_TABLE = "audit_auditentry"


def person_pseudonym(email: str) -> str:
    """The stable pseudonym of an email: ``erased-<HMAC-SHA256(secret key, email)[:24]>@invalid`` (the same
    email always gets the same pseudonym; without the key it cannot be reversed or confirmed)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), email.strip().lower().encode(), hashlib.sha256)
    return f"erased-{digest.hexdigest()[:24]}@{PSEUDONYM_DOMAIN}"


def email_pattern(email: str) -> str:
    """A Postgres regular expression matching ``email`` literally (matched case-insensitively)."""
    return re.escape(email.strip().lower())


def schema_text_replace(*, schema_name: str, email: str, pseudonym: str) -> dict[str, int]:
    """Replace ``email`` (any case) by ``pseudonym`` in every text/JSON column of ``schema_name``'s tables but
    the ledger; the rows changed per ``table.column``."""
    changed: dict[str, int] = {}
    pattern = email_pattern(email)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)"
            " AND c.table_name <> %s ORDER BY 1, 2",
            [schema_name, list(TEXT_TYPES), LEDGER_TABLE],
        )
        for table, column, data_type in cursor.fetchall():
            target = sql.Identifier(schema_name, table)
            col = sql.Identifier(column)
            replaced = sql.SQL("regexp_replace({col}::text, %s, %s, 'gi')").format(col=col)
            if data_type in ("json", "jsonb"):
                replaced = sql.SQL("({r})::{t}").format(r=replaced, t=sql.SQL(data_type))
            statement = sql.SQL("UPDATE {target} SET {col} = {replaced} WHERE {col}::text ~* %s").format(
                target=target, col=col, replaced=replaced
            )
            cursor.execute(statement.as_string(connection.connection), [pattern, pseudonym, pattern])
            if cursor.rowcount:
                changed[f"{table}.{column}"] = cursor.rowcount
    return changed
