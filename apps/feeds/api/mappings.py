"""Series–curve mappings: the original's ``/v1/admin/mappings…`` (also under ``/api/v1``; bodies as the v1
contract's SeriesCurveMapping* schemas) and v2 ``/api/v2/series-curve-mappings`` and
``/api/v2/series-mapping-suggestions``. Every tenant reads them (`curves:read`); only the platform's
operators write them (`curves:write` in an operator tenant), others get 403."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.feeds.api.respond import licensed_datasets, whole
from apps.feeds.mapping_search import (
    Suggestion,
    mapping_get,
    mapping_get_for_series,
    mapping_list,
    mapping_suggestions,
)
from apps.feeds.mappings import mapping_create, mapping_deactivate, mapping_update
from apps.feeds.models import Series, SeriesCurveMapping
from apps.feeds.selectors import series_get, series_providers
from aurum.api.context import request_context
from aurum.api.openapi import V1PageMeta, v1_envelope, v1_page_parameters
from aurum.api.paging import page_slice, v1_page_request, v2_page_request
from aurum.api.responses import object_response, v1_list_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import ForbiddenError, InvalidInputError, Issue

READ, WRITE = "curves:read", "curves:write"
OPERATORS = "Only the platform's market-data operators change series-curve mappings."
METHODS = SeriesCurveMapping.Method.choices


class MappingCreate(serializers.Serializer):
    external_provider = serializers.CharField(max_length=16)
    external_series_id = serializers.CharField(max_length=128)
    curve_key = serializers.CharField(max_length=64)
    mapping_confidence = serializers.FloatField(min_value=0.0, max_value=1.0, default=1.0)
    mapping_method = serializers.ChoiceField(choices=METHODS, default="manual")
    mapping_notes = serializers.CharField(max_length=2000, allow_null=True, allow_blank=True, default=None)
    is_active = serializers.BooleanField(default=True)


class MappingUpdate(serializers.Serializer):
    mapping_confidence = serializers.FloatField(min_value=0.0, max_value=1.0, allow_null=True, required=False)
    mapping_method = serializers.ChoiceField(choices=METHODS, allow_null=True, required=False)
    mapping_notes = serializers.CharField(max_length=2000, allow_null=True, allow_blank=True, required=False)
    is_active = serializers.BooleanField(allow_null=True, required=False)


class MappingOutput(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()
    mapping_notes = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()

    class Meta:
        model = SeriesCurveMapping
        fields = [
            "id",
            "external_provider",
            "external_series_id",
            "curve_key",
            "mapping_confidence",
            "mapping_method",
            "mapping_notes",
            "is_active",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
        ]

    def get_id(self, mapping: SeriesCurveMapping) -> str:
        return str(mapping.pk)

    def get_mapping_notes(self, mapping: SeriesCurveMapping) -> str | None:
        return mapping.mapping_notes or None

    def get_updated_by(self, mapping: SeriesCurveMapping) -> str | None:
        return mapping.updated_by or None


class SuggestionOutput(serializers.Serializer):
    curve_key = serializers.CharField()
    curve_name = serializers.CharField()
    score = serializers.FloatField(help_text="0–1: 0.7 × share of the series' words + 0.3 × difflib ratio")
    reasons = serializers.ListField(child=serializers.CharField())
    already_mapped = serializers.BooleanField()


class SeriesQuery(serializers.Serializer):
    external_provider = serializers.CharField(max_length=16)
    external_series_id = serializers.CharField(max_length=128)


class SuggestionQuery(SeriesQuery):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class SuggestionV2Query(serializers.Serializer):
    """The v2 names and the original v2's (``provider``, ``series_id``, and the series' texts)."""

    external_provider = serializers.CharField(max_length=16, required=False)
    external_series_id = serializers.CharField(max_length=128, required=False)
    provider = serializers.CharField(max_length=16, required=False, help_text="= external_provider")
    series_id = serializers.CharField(max_length=128, required=False, help_text="= external_series_id")
    series_name = serializers.CharField(max_length=500, required=False, help_text="ranks by this name")
    description = serializers.CharField(max_length=2000, required=False, help_text="its words count too")
    units = serializers.CharField(max_length=64, required=False, help_text="ranks by these units")

    # (v2 name, the original v2's name): either, or both when they agree.
    ALIASES = (("external_provider", "provider"), ("external_series_id", "series_id"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        issues = []
        for name, alias in self.ALIASES:
            ours, theirs = attrs.get(name), attrs.get(alias)
            same = (
                ours.upper() == theirs.upper()
                if name == "external_provider" and ours and theirs
                else ours == theirs
            )
            if ours and theirs and not same:
                issues.append(
                    Issue(alias, f"{alias}={theirs!r} conflicts with {name}={ours!r}; give one", "conflict")
                )
            elif not ours and not theirs:
                issues.append(
                    Issue(name, f"this field is required (or its original name, {alias})", "required")
                )
            attrs[name] = ours or theirs
            attrs.pop(alias, None)
        if issues:
            raise InvalidInputError.of(*issues)
        return attrs


V1_LIST = v1_envelope("SeriesCurveMappingListResponse", MappingOutput(many=True), V1PageMeta())
V1_SEARCH = v1_envelope("SeriesCurveMappingSearchResponse", SuggestionOutput(many=True))
LIST_PARAMETERS = [
    OpenApiParameter("external_provider", str, description="FRED, EIA…"),
    OpenApiParameter("active_only", bool, description="default true"),
]


def _operator(request: Request) -> tuple[str, str]:
    """The acting operator's email and tenant schema; 403 outside an operator tenant."""
    context = request_context(request)
    if not context.tenant.is_operator:
        raise ForbiddenError(OPERATORS)
    return context.user.email, context.tenant.schema_name


def _body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _list_filters(request: Request) -> dict[str, Any]:
    active = serializers.BooleanField().to_internal_value(request.query_params.get("active_only", "true"))
    provider = (request.query_params.get("external_provider") or "").upper()[:16]
    return {"external_provider": provider, "active_only": active}


def _series(request: Request, query_class: type[serializers.Serializer]) -> tuple[Series, dict[str, Any]]:
    """The series the query names, in the tenant's licensed catalog (404 otherwise), and the query."""
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    q = dict(query.validated_data)
    providers = series_providers(licensed_datasets(request))
    series = series_get(providers=providers, key=f"{q['external_provider']}:{q['external_series_id']}")
    return series, q


def _suggestion(s: Suggestion) -> dict[str, Any]:
    return dict(SuggestionOutput(s).data)


def _create(request: Request) -> SeriesCurveMapping:
    actor, schema = _operator(request)
    return mapping_create(**_body(MappingCreate, request), actor_email=actor, tenant_schema=schema)


# --- v1: the original's paths -----------------------------------------------------------------------------


class MappingsV1Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="v1_admin_mappings_list",
        parameters=[*LIST_PARAMETERS, *v1_page_parameters(100, 500)],
        responses=V1_LIST,
        description="Series-curve mappings, by provider, series and curve; cursor paging.",
    )
    def get(self, request: Request) -> Response:
        filters = _list_filters(request)
        page = v1_page_request(request, filters=filters, default=100, maximum=500)
        rows, has_more = page_slice(
            mapping_list(provider=filters["external_provider"], active_only=filters["active_only"]), page
        )
        data = list(MappingOutput(rows, many=True).data)
        return v1_list_response(request, data, page=page, has_more=has_more, filters=filters)

    @extend_schema(
        operation_id="v1_admin_mappings_create",
        request=MappingCreate,
        responses=MappingOutput,
        description="Map an external series to a catalog curve (audited); 409 when mapped already. "
        + OPERATORS,
    )
    def post(self, request: Request) -> Response:
        return Response(MappingOutput(_create(request)).data)


class MappingV1Api(PermissionByMethodView):
    needs = {"PUT": WRITE, "DELETE": WRITE}

    def _mapping(self, request: Request, provider: str, series_id: str) -> SeriesCurveMapping:
        curve_key = request.query_params.get("curve_key") or None
        return mapping_get_for_series(provider=provider, series_id=series_id, curve_key=curve_key)

    @extend_schema(
        operation_id="v1_admin_mapping_update",
        parameters=[OpenApiParameter("curve_key", str, description="when the series maps to several curves")],
        request=MappingUpdate,
        responses=MappingOutput,
        description=f"Change a series' mapping (audited). {OPERATORS}",
    )
    def put(self, request: Request, provider: str, series_id: str) -> Response:
        mapping = self._mapping(request, provider, series_id)  # shared metadata: a 404 tells nothing
        actor, schema = _operator(request)
        changes = _body(MappingUpdate, request)
        updated = mapping_update(mapping=mapping, changes=changes, actor_email=actor, tenant_schema=schema)
        return Response(MappingOutput(updated).data)

    @extend_schema(
        operation_id="v1_admin_mapping_deactivate",
        parameters=[OpenApiParameter("curve_key", str, description="when the series maps to several curves")],
        request=None,
        responses=MappingOutput,
        description=f"Deactivate a series' mapping (it stays, inactive; audited). {OPERATORS}",
    )
    def delete(self, request: Request, provider: str, series_id: str) -> Response:
        mapping = self._mapping(request, provider, series_id)
        actor, schema = _operator(request)
        return Response(
            MappingOutput(mapping_deactivate(mapping=mapping, actor_email=actor, tenant_schema=schema)).data
        )


class MappingSearchV1Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="v1_admin_mappings_search",
        parameters=[SuggestionQuery],
        responses=V1_SEARCH,
        description="Catalog curves the series (in the tenant's licensed catalog) may map to, best first, "
        "with score and reasons.",
    )
    def get(self, request: Request) -> Response:
        series, query = _series(request, SuggestionQuery)
        return whole(
            request, [_suggestion(s) for s in mapping_suggestions(series=series, limit=query["limit"])], ttl=0
        )


# --- v2 -----------------------------------------------------------------------------------------------------


class MappingsV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="series_curve_mappings_list",
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=MappingOutput(many=True),
        description="Series-curve mappings (shared market metadata), by provider, series and curve.",
    )
    def get(self, request: Request) -> Response:
        filters = _list_filters(request)
        page = v2_page_request(request, filters=filters)
        rows, has_more = page_slice(
            mapping_list(provider=filters["external_provider"], active_only=filters["active_only"]), page
        )
        data = list(MappingOutput(rows, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)

    @extend_schema(
        operation_id="series_curve_mappings_create",
        request=MappingCreate,
        responses={201: MappingOutput},
        description="Map an external series to a catalog curve (audited); 409 when mapped already. "
        + OPERATORS,
    )
    def post(self, request: Request) -> Response:
        mapping = _create(request)
        return object_response(
            request,
            MappingOutput(mapping).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(f"/api/v2/series-curve-mappings/{mapping.pk}")},
        )


class MappingV2Api(PermissionByMethodView):
    needs = {"PUT": WRITE, "DELETE": WRITE}

    @extend_schema(
        operation_id="series_curve_mapping_update",
        request=MappingUpdate,
        responses=MappingOutput,
        description=f"Change a mapping's confidence, method, notes or activity (audited). {OPERATORS}",
    )
    def put(self, request: Request, mapping_id: int) -> Response:
        mapping = mapping_get(mapping_id=mapping_id)  # shared metadata: a 404 tells nothing
        actor, schema = _operator(request)
        changes = _body(MappingUpdate, request)
        updated = mapping_update(mapping=mapping, changes=changes, actor_email=actor, tenant_schema=schema)
        return object_response(request, MappingOutput(updated).data)

    @extend_schema(
        operation_id="series_curve_mapping_deactivate",
        request=None,
        responses=MappingOutput,
        description=f"Deactivate a mapping (it stays, inactive; audited). {OPERATORS}",
    )
    def delete(self, request: Request, mapping_id: int) -> Response:
        mapping = mapping_get(mapping_id=mapping_id)
        actor, schema = _operator(request)
        deactivated = mapping_deactivate(mapping=mapping, actor_email=actor, tenant_schema=schema)
        return object_response(request, MappingOutput(deactivated).data)


class MappingSuggestionsV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="series_mapping_suggestions",
        parameters=[
            SuggestionV2Query,
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=SuggestionOutput(many=True),
        description="Catalog curves the series (in the tenant's licensed catalog) may map to, best first: "
        "score = 0.7 × share of the series' words (title, units, provider, id) the curve has + 0.3 × "
        "difflib ratio of the texts; reasons name the shared words. The original v2's parameter names are "
        "taken too: `provider` and `series_id` (the same as `external_provider`, `external_series_id`; both "
        "names with different values are a 400 problem), and the series' texts `series_name` and `units` "
        "(ranked by instead of the catalog's title and units) and `description` (its words count too).",
    )
    def get(self, request: Request) -> Response:
        series, query = _series(request, SuggestionV2Query)
        texts = {k: query[k] for k in ("series_name", "description", "units") if query.get(k)}
        filters = {"external_provider": series.provider, "external_series_id": series.series_id, **texts}
        page = v2_page_request(request, filters=filters)
        ranked = mapping_suggestions(series=series, limit=page.offset + page.limit + 1, **texts)
        rows, has_more = page_slice(ranked, page)
        data = [_suggestion(s) for s in rows]
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)
