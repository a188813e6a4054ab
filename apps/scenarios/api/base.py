"""What every scenario view shares: the permission per method and the OpenAPI response type."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from aurum.api.views import PermissionByMethodView

OUTPUTS_TTL = 30  # seconds: a newer run changes "the latest outputs"


@extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
class ScenarioView(PermissionByMethodView):
    """Scenario views: their responses are JSON objects in the OpenAPI document (the views build them by
    hand; each documents itself with a description and examples)."""

    default_need = "scenarios:read"
