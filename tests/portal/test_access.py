"""``portal_view``: the foundation every portal page stands on (the other sections use it too)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.test import RequestFactory

from apps.accounts.models import Membership
from apps.portal.access import portal_view
from aurum.api.context import RequestContext, request_context_set
from aurum.errors import ConflictError, InvalidInputError, Issue, NotFoundError


def _body(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def _request(world, role: str):
    membership = Membership.objects.select_related("tenant", "user").get(
        pk=world.acme.members[role].membership_id
    )
    request = RequestFactory().get("/some/page/", HTTP_HOST=world.acme.host)
    request.user = membership.user
    request.session = {}  # type: ignore[assignment]
    request_context_set(
        request,
        RequestContext(
            tenant=membership.tenant, membership=membership, permissions=membership.permissions, token=None
        ),
    )
    return request


@portal_view("tokens:manage")
def _admin_page(request, ctx):
    return HttpResponse(f"hello {ctx.membership.role}")


@portal_view()
def _failing_page(request, ctx, error):
    raise error


def test_a_page_needing_a_permission_opens_for_a_member_who_has_it(world):
    assert _body(_admin_page(_request(world, "admin"))) == "hello admin"


def test_a_member_without_the_permission_gets_the_403_page(world):
    with pytest.raises(PermissionDenied, match="tokens:manage"):
        _admin_page(_request(world, "viewer"))


def test_errors_of_selectors_become_the_portals_error_pages(world):
    with pytest.raises(Http404):
        _failing_page(_request(world, "analyst"), error=NotFoundError("No such curve."))
    invalid = _failing_page(
        _request(world, "analyst"),
        error=InvalidInputError.of(Issue(field="asof", message="asof: Enter a valid date.")),
    )
    conflict = _failing_page(_request(world, "analyst"), error=ConflictError("Already running."))

    assert invalid.status_code == 400
    assert "<strong>asof</strong>: asof: Enter a valid date." in _body(invalid)
    assert conflict.status_code == 409
    assert "Already running." in _body(conflict)


def test_a_request_without_a_member_of_this_tenant_is_sent_to_sign_in(world):
    request = RequestFactory().get("/some/page/?x=1", HTTP_HOST=world.acme.host)
    request.user = AnonymousUser()
    request_context_set(request, None)

    response = _admin_page(request)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/some/page/%3Fx%3D1"
