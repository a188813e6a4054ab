"""Template filters of the portal."""

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder

register = template.Library()


@register.filter
def json_attr(value: Any) -> str:
    """``value`` as JSON for an HTML attribute, ``data-chart="{{ spec|json_attr }}"``.

    Data for scripts travels in attributes, not in ``<script type="application/json">`` blocks: htmx drops
    every ``<script>`` of swapped-in content when it may not evaluate scripts (the CSP's setting)."""
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"))
