"""Series–curve mappings (writes): an external series (FRED, EIA…) mapped to an internal curve key. Shared
market metadata in the public schema, written by the platform's operators; each change is an entry in the
acting (operator) tenant's audit ledger, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import audit_append
from apps.curves.models import Curve
from apps.feeds.models import SeriesCurveMapping
from aurum.errors import ConflictError, InvalidInputError

FIELDS = ("mapping_confidence", "mapping_method", "mapping_notes", "is_active")


def _check(*, confidence: float | None, method: str | None) -> None:
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise InvalidInputError.field("mapping_confidence", "must be between 0.0 and 1.0")
    if method is not None and method not in SeriesCurveMapping.Method.values:
        raise InvalidInputError.field("mapping_method", "must be manual, automated or heuristic")


def _changes(mapping: SeriesCurveMapping) -> dict[str, Any]:
    return {
        "external_provider": mapping.external_provider,
        "external_series_id": mapping.external_series_id,
        "curve_key": mapping.curve_key,
        **{name: getattr(mapping, name) for name in FIELDS},
    }


def mapping_create(
    *,
    external_provider: str,
    external_series_id: str,
    curve_key: str,
    mapping_confidence: float = 1.0,
    mapping_method: str = SeriesCurveMapping.Method.MANUAL,
    mapping_notes: str | None = None,
    is_active: bool = True,
    actor_email: str,
    tenant_schema: str,
) -> SeriesCurveMapping:
    """A new mapping; InvalidInputError for an unknown curve or a bad value, ConflictError when the
    (provider, series, curve) is mapped already."""
    _check(confidence=mapping_confidence, method=mapping_method)
    if not Curve.objects.filter(curve_key=curve_key).exists():
        raise InvalidInputError.field("curve_key", f"no curve {curve_key!r} in the catalog", code="not_found")
    try:
        with transaction.atomic():
            mapping = SeriesCurveMapping.objects.create(
                external_provider=external_provider.upper(),
                external_series_id=external_series_id,
                curve_key=curve_key,
                mapping_confidence=mapping_confidence,
                mapping_method=mapping_method,
                mapping_notes=mapping_notes or "",
                is_active=is_active,
                created_by=actor_email,
            )
            audit_append(
                action="series_curve_mapping.create",
                resource_type="series_curve_mapping",
                resource_id=mapping.pk,
                changes=_changes(mapping),
                schema_name=tenant_schema,
            )
    except IntegrityError as error:
        raise ConflictError(
            f"{external_provider.upper()}:{external_series_id} is mapped to {curve_key} already."
        ) from error
    return mapping


def mapping_update(
    *, mapping: SeriesCurveMapping, changes: dict[str, Any], actor_email: str, tenant_schema: str
) -> SeriesCurveMapping:
    """Change the given fields (of FIELDS; None values are left as they are)."""
    wanted = {k: v for k, v in changes.items() if k in FIELDS and v is not None}
    if "mapping_notes" in changes and changes["mapping_notes"] is None:
        wanted["mapping_notes"] = ""  # notes cleared
    _check(confidence=wanted.get("mapping_confidence"), method=wanted.get("mapping_method"))
    with transaction.atomic():
        locked = SeriesCurveMapping.objects.select_for_update().get(pk=mapping.pk)
        before = {k: getattr(locked, k) for k in wanted}
        for name, value in wanted.items():
            setattr(locked, name, value)
        locked.updated_by = actor_email
        locked.save()
        audit_append(
            action="series_curve_mapping.update",
            resource_type="series_curve_mapping",
            resource_id=locked.pk,
            changes={"before": before, "after": wanted, "curve_key": locked.curve_key},
            schema_name=tenant_schema,
        )
    return locked


def mapping_deactivate(
    *, mapping: SeriesCurveMapping, actor_email: str, tenant_schema: str
) -> SeriesCurveMapping:
    """Deactivate (the row stays, for history); deactivating an inactive mapping changes nothing more."""
    return mapping_update(
        mapping=mapping, changes={"is_active": False}, actor_email=actor_email, tenant_schema=tenant_schema
    )
