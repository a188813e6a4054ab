"""Test-only routes of the provider (loopback only, no authentication: this provider exists for the tests)."""

import json
from typing import Any

from django.contrib.auth.models import Group, User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import Application

from tests.support.oidc_provider.settings import STATE_DIR

JWKS_FILE = STATE_DIR / "rotating-jwks.json"


def _body(request: HttpRequest) -> dict[str, Any]:
    body = json.loads(request.body)
    assert isinstance(body, dict)
    return body


@csrf_exempt
def user_upsert(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    user, _ = User.objects.get_or_create(username=body["username"])
    user.email = body["email"]
    user.set_password(body["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in body.get("groups", [])])
    return JsonResponse({"id": user.pk})


@csrf_exempt
def app_upsert(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    Application.objects.filter(client_id=body["client_id"]).delete()
    app = Application.objects.create(
        name=body["client_id"],
        client_id=body["client_id"],
        client_secret=body["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(body["redirect_uris"]),
        post_logout_redirect_uris=" ".join(body.get("post_logout_redirect_uris", [])),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=body.get("skip_authorization", False),
    )
    return JsonResponse({"id": app.pk})


def rotating_discovery(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/rotating")
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }
    )


def rotating_jwks(request: HttpRequest) -> HttpResponse:
    JWKS_REQUESTS.append(1)
    return HttpResponse(JWKS_FILE.read_text(), content_type="application/json")


# How many times the JWKS was fetched (read through /control/jwks-requests): the cache and refetch tests.
JWKS_REQUESTS: list[int] = []


def jwks_requests(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"count": len(JWKS_REQUESTS)})
