"""Views for the Idempotency-Key layer's own tests (tests/api/test_idempotency*.py): a view that fails before
it answers, and a view held at a gate until the test opens it. ``urlpatterns`` serves them beside the tenant
URLconf (``@pytest.mark.urls("tests.support.idempotency")``); the route-table suites walk aurum.urls_tenant
and never see them."""

from __future__ import annotations

import threading
from typing import Any

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from aurum.api.views import PermissionByMethodView
from aurum.errors import UnavailableError
from aurum.urls_tenant import urlpatterns as tenant_urlpatterns

FAILING_PATH = "/api/v2/test-idempotency/failing"
GATED_PATH = "/api/v2/test-idempotency/gated"
SERVICE_GATED_PATH = "/api/v2/test-idempotency/service-gated"


class FailingView(PermissionByMethodView):
    """Answers the outcomes in ``outcomes`` in turn ("raise": an unhandled exception, "503": a dependency
    down, "ok": 201 with the call's number); counts its calls."""

    needs = {"POST": "scenarios:read"}
    outcomes: list[str] = []
    calls: list[int] = []

    def post(self, request: Request) -> Response:
        FailingView.calls.append(len(FailingView.calls) + 1)
        outcome = FailingView.outcomes.pop(0) if FailingView.outcomes else "ok"
        if outcome == "raise":
            raise RuntimeError("the view failed half way")
        if outcome == "503":
            raise UnavailableError("The lakehouse is down.")
        return Response({"call": len(FailingView.calls)}, status=status.HTTP_201_CREATED)


class Gate:
    """``entered`` is set when a request is inside the view; the view waits for ``opened``."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.calls = 0


GATE = Gate()


class GatedView(PermissionByMethodView):
    needs = {"POST": "scenarios:read"}

    def post(self, request: Request) -> Response:
        GATE.calls += 1
        GATE.entered.set()
        if not GATE.opened.wait(timeout=30):
            raise RuntimeError("the test never opened the gate")
        return Response({"call": GATE.calls, "echo": request.data}, status=status.HTTP_201_CREATED)


class ServiceGatedView(GatedView):
    """The gated view on a route whose service keeps the key: the layer only holds it while the view runs."""

    idempotency = "service"


urlpatterns: list[Any] = [
    path(FAILING_PATH.lstrip("/"), FailingView.as_view()),
    path(GATED_PATH.lstrip("/"), GatedView.as_view()),
    path(SERVICE_GATED_PATH.lstrip("/"), ServiceGatedView.as_view()),
    *tenant_urlpatterns,
]
