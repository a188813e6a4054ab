"""Series–curve mappings (reads): lists, gets, and the ranking of catalog curves a series may map to.

The ranking is deliberately simple and explainable: the series' words (title, units, provider, id) against
each curve's words (location, product, market, ISO, region, commodity, units): the share of the series'
words the curve has (token overlap, Jaccard on the series' side) weighted 0.7, plus difflib's ratio of the
two texts weighted 0.3. Each suggestion carries its score and the reasons (the shared words, the ratio)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import QuerySet

from apps.curves.models import Curve
from apps.feeds.models import Series, SeriesCurveMapping
from aurum.errors import ConflictError, NotFoundError

TOKEN_WEIGHT, RATIO_WEIGHT = 0.7, 0.3
STOP_WORDS = frozenset({"the", "of", "and", "for", "in", "at", "to", "a", "an", "by", "per", "us", "u", "s"})


def mapping_list(*, provider: str | None = None, active_only: bool = True) -> QuerySet[SeriesCurveMapping]:
    """Readable by every tenant: shared market metadata."""
    mappings = SeriesCurveMapping.objects.all()
    if provider:
        mappings = mappings.filter(external_provider=provider.upper())
    if active_only:
        mappings = mappings.filter(is_active=True)
    return mappings.order_by("external_provider", "external_series_id", "curve_key", "id")


def mapping_get(*, mapping_id: int) -> SeriesCurveMapping:
    found = SeriesCurveMapping.objects.filter(pk=mapping_id).first()
    if found is None:
        raise NotFoundError("No such series-curve mapping.")
    return found


def mapping_get_for_series(
    *, provider: str, series_id: str, curve_key: str | None = None
) -> SeriesCurveMapping:
    """The original's v1 addresses a mapping by (provider, series): the series' one mapping, or the one to
    ``curve_key`` when the series maps to several curves (ConflictError without it)."""
    found = SeriesCurveMapping.objects.filter(
        external_provider=provider.upper(), external_series_id=series_id
    )
    if curve_key:
        found = found.filter(curve_key=curve_key)
    matches = list(found.order_by("-is_active", "curve_key")[:2])
    if not matches:
        raise NotFoundError(f"No mapping for {provider.upper()}:{series_id}.")
    if len(matches) > 1:
        raise ConflictError(
            f"{provider.upper()}:{series_id} maps to several curves; name one with ?curve_key=, "
            "or use /api/v2/series-curve-mappings/{id}."
        )
    return matches[0]


def _tokens(*texts: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", " ".join(texts).lower())
    return {w for w in words if w not in STOP_WORDS and len(w) > 1}


@dataclass(frozen=True)
class Suggestion:
    curve_key: str
    score: float
    reasons: list[str]
    curve_name: str
    already_mapped: bool


def _curve_text(curve: Curve) -> str:
    parts = (curve.location, curve.product, curve.market, curve.iso, curve.region, curve.commodity)
    units = (curve.units_raw, curve.currency, curve.per_unit)
    return " ".join(p for p in (*parts, *units) if p)


def mapping_suggestions(
    *,
    series: Series,
    limit: int,
    series_name: str | None = None,
    description: str | None = None,
    units: str | None = None,
) -> list[Suggestion]:
    """Catalog curves ranked by similarity to the series (best first; ties by curve_key), score > 0 only.

    The original v2 took the series' texts from the caller: ``series_name`` and ``units``, when given, stand
    for the catalog's title and units, and ``description`` adds its words."""
    texts = (series_name or series.title, units or series.unit_code, description, series.provider)
    series_text = " ".join(p for p in (*texts, series.series_id) if p)
    wanted = _tokens(series_text)
    mapped = set(
        SeriesCurveMapping.objects.filter(
            external_provider=series.provider, external_series_id=series.series_id
        ).values_list("curve_key", flat=True)
    )
    ranked: list[Suggestion] = []
    for curve in Curve.objects.order_by("curve_key").iterator():
        curve_text = _curve_text(curve)
        shared = sorted(wanted & _tokens(curve_text, curve.curve_key))
        overlap = len(shared) / len(wanted) if wanted else 0.0
        ratio = SequenceMatcher(None, series_text.lower(), curve_text.lower()).ratio()
        score = round(TOKEN_WEIGHT * overlap + RATIO_WEIGHT * ratio, 4)
        if not shared:
            continue
        reasons = [f"shared words: {', '.join(shared)}", f"text similarity {ratio:.2f}"]
        ranked.append(Suggestion(curve.curve_key, score, reasons, str(curve), curve.curve_key in mapped))
    ranked.sort(key=lambda s: (-s.score, s.curve_key))
    return ranked[:limit]
