"""Erasure of a person (GDPR art. 17): their identity replaced by a pseudonym everywhere Aurum keeps it,
while every tenant's audit chain still verifies (decision 0033).

- The user row: email → ``erased-<hmac>@invalid``, name blank, password unusable, inactive.
- Memberships removed (their tokens go with them: revoked first, so a token in flight stops at once).
- Each schema (public and every tenant): the email replaced in every text/JSON column
  (``apps.offboarding.pseudonyms``): invitations, django-auditlog rows, webhook deliveries, stored
  idempotent answers, outbox events.
- Each tenant's ledger, within what its trigger allows: version-2 entries (no personal data under the hash)
  get the pseudonym in the actor's display and ``personal``, and an empty client address when the person
  acted; version-1 entries that hold the email, or that the person made, are rewritten and marked
  ``redacted_by`` the ``person.erase`` entry appended to that ledger, which lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken, Membership, User
from apps.audit.context import AuditActor
from apps.audit.models import ActorKind, AuditEntry
from apps.audit.services import audit_append
from apps.offboarding.pseudonyms import email_pattern, person_pseudonym, schema_text_replace
from aurum.errors import InvalidInputError, NotFoundError
from aurum.idempotency.models import IdempotentRequest
from tenants.models import Tenant

ERASE_ACTION = "person.erase"


@dataclass
class ErasureReport:
    pseudonym: str
    user_id: int
    memberships_removed: int = 0
    tokens_revoked: int = 0
    public_rows: dict[str, int] = field(default_factory=dict)
    tenants: dict[str, dict[str, object]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "pseudonym": self.pseudonym,
            "user_id": self.user_id,
            "memberships_removed": self.memberships_removed,
            "tokens_revoked": self.tokens_revoked,
            "public_rows": self.public_rows,
            "tenants": self.tenants,
        }


def actor_for_staff(staff: User) -> AuditActor:
    return AuditActor(kind=ActorKind.USER, id=str(staff.pk), display=f"platform staff ({staff.email})")


def _person_acted(user: User, token_ids: list[int]) -> Q:
    return Q(actor_kind=ActorKind.USER, actor_id=str(user.pk)) | Q(
        actor_kind=ActorKind.TOKEN, actor_id__in=[str(pk) for pk in token_ids]
    )


def _ledger_erase(
    *, user: User, email: str, pseudonym: str, token_ids: list[int], staff: User, member: bool
) -> dict[str, int]:
    """Rewrite the current tenant's ledger; append ``person.erase`` when anything named the person or they
    were a member (their membership is removed)."""
    pattern = email_pattern(email)
    mentions = Q(actor_display__iregex=pattern) | Q(personal__iregex=pattern) | Q(changes__iregex=pattern)
    acted = _person_acted(user, token_ids)
    v1 = list(
        AuditEntry.objects.filter(version=1, redacted_by__isnull=True)
        .filter(mentions | acted)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    # Redacted already by an earlier erasure (of someone else named in the same entry): rewritten again,
    # keeping the erasure that lists it.
    v1_again = list(
        AuditEntry.objects.filter(version=1, redacted_by__isnull=False)
        .filter(mentions | acted)
        .order_by("sequence")
    )
    v2_acted = AuditEntry.objects.filter(acted, version__gte=2)
    v2_mentions = AuditEntry.objects.filter(mentions, version__gte=2)
    if not member and not v1 and not v1_again and not v2_acted.exists() and not v2_mentions.exists():
        return {}
    erase = audit_append(
        action=ERASE_ACTION,
        resource_type="person",
        resource_id=pseudonym,
        changes={"subject": pseudonym, "redacted": v1, "membership_removed": member},
        actor=actor_for_staff(staff),
    )
    with connection.cursor() as cursor:
        # The display and personal values: the email wherever it is, in entries of either version.
        cursor.execute(
            "UPDATE audit_auditentry SET actor_display = regexp_replace(actor_display, %s, %s, 'gi'),"
            " personal = regexp_replace(personal, %s, %s, 'gi')"
            " WHERE version >= 2 AND (actor_display ~* %s OR personal ~* %s)",
            [pattern, pseudonym, pattern, pseudonym, pattern, pattern],
        )
        rewritten = cursor.rowcount
    address_cleared = v2_acted.exclude(remote_addr="").update(remote_addr="")
    for entry in [*AuditEntry.objects.filter(sequence__in=v1), *v1_again]:
        entry.actor_display = _replace(entry.actor_display, pattern, pseudonym)
        entry.changes = _replace(entry.changes, pattern, pseudonym)
        if (
            entry.actor_kind == ActorKind.USER
            and entry.actor_id == str(user.pk)
            or (entry.actor_kind == ActorKind.TOKEN and entry.actor_id in {str(pk) for pk in token_ids})
        ):
            entry.remote_addr = ""
        entry.redacted_by = entry.redacted_by or erase.sequence
        entry.save(update_fields=["actor_display", "changes", "remote_addr", "redacted_by"])
    return {
        "erase_sequence": erase.sequence,
        "v2_rewritten": rewritten,
        "v2_addresses_cleared": address_cleared,
        "v1_redacted": len(v1),
        "v1_rewritten_again": len(v1_again),
    }


def _replace(text: str, pattern: str, pseudonym: str) -> str:
    return re.sub(pattern, pseudonym, text, flags=re.IGNORECASE)


def person_erase(*, email: str, staff: User) -> ErasureReport:
    """Erase the person with ``email`` (see the module's docstring), all or nothing, in one transaction.
    ``staff`` (platform staff) is the actor of each ``person.erase`` entry. NotFoundError for an unknown
    email; InvalidInputError for staff erasing themselves or an already erased person."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise NotFoundError(f"No user has the email {email}.")
    if user.pk == staff.pk:
        raise InvalidInputError.field("email", "Platform staff cannot erase themselves.")
    pseudonym = person_pseudonym(email)
    report = ErasureReport(pseudonym=pseudonym, user_id=user.pk)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).get()
        token_ids = list(ApiToken.objects.filter(membership__user=user).values_list("pk", flat=True))
        member_of = set(Membership.objects.filter(user=user).values_list("tenant__schema_name", flat=True))
        report.tokens_revoked = ApiToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        for schema_name in (
            Tenant.objects.exclude(schema_name="public")
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        ):
            with schema_context(schema_name):
                ledger = _ledger_erase(
                    user=user,
                    email=email,
                    pseudonym=pseudonym,
                    token_ids=token_ids,
                    staff=staff,
                    member=schema_name in member_of,
                )
                rows = schema_text_replace(schema_name=schema_name, email=email, pseudonym=pseudonym)
                # Their stored idempotent answers are sealed (not searchable) and may name them: dropped
                # (their credentials are gone, nobody can replay them).
                credentials = [f"user:{user.pk}", *(f"token:{pk}" for pk in token_ids)]
                answers, _ = IdempotentRequest.objects.filter(credential__in=credentials).delete()
                if answers:
                    rows["idempotency.IdempotentRequest (deleted)"] = answers
            if ledger or rows:
                report.tenants[schema_name] = {"ledger": ledger, "rows": rows}
        _, deleted = Membership.objects.filter(user=user).delete()
        report.memberships_removed = deleted.get(Membership._meta.label, 0)
        report.public_rows = schema_text_replace(schema_name="public", email=email, pseudonym=pseudonym)
        user.refresh_from_db()
        user.email = pseudonym
        user.full_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "full_name", "is_active", "password"])
    return report
