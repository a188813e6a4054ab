"""/api/v2/members and /api/v2/invitations: a tenant's admins manage its people (``members:manage`` in the
credential's effective permissions: a token needs the scope too). Accepting an invitation needs no credential:
the emailed link's signed token is one; it is throttled like a sign-in."""

import math

from django.http.request import split_domain_port
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.serializers import (
    InvitationAcceptInput,
    InvitationCreateInput,
    InvitationOutput,
    MemberOutput,
    MemberRoleInput,
    MembershipJoinedOutput,
)
from apps.accounts.api.views import PAGING_PARAMETERS
from apps.accounts.members import (
    invitation_accept,
    invitation_create_as,
    invitation_revoke_as,
    membership_remove_as,
    membership_role_change_as,
)
from apps.accounts.roles import MEMBERS_MANAGE
from apps.accounts.selectors import (
    invitation_for_link,
    invitation_list_open,
    membership_get,
    membership_list,
    user_has_account,
)
from apps.accounts.signin import signin_ip_limit, signin_limits
from aurum.api.context import request_context, request_context_or_none
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.permissions import Requires
from aurum.api.responses import object_response, v2_list_response
from aurum.api.throttling import Limit, limits_refusal, limits_take
from aurum.api.views import ApiView
from aurum.errors import InvalidInputError, NotFoundError, RateLimitedError
from tenants.models import Tenant

# A cursor of one list is refused by the other.
MEMBER_LIST_FILTERS = {"list": "members"}
INVITATION_LIST_FILTERS = {"list": "invitations"}
# The portal's accept page, which the emailed link opens (apps/portal/urls_ops.py).
ACCEPT_PAGE = "/invitations/"


class MemberListApi(ApiView):
    permission_classes = [Requires(MEMBERS_MANAGE)]

    @extend_schema(responses=MemberOutput(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters=MEMBER_LIST_FILTERS)
        rows, has_more = page_slice(membership_list(tenant=request_context(request).tenant), page)
        return v2_list_response(
            request,
            list(MemberOutput(rows, many=True).data),
            page=page,
            has_more=has_more,
            filters=MEMBER_LIST_FILTERS,
        )


class MemberDetailApi(ApiView):
    permission_classes = [Requires(MEMBERS_MANAGE)]

    @extend_schema(responses=MemberOutput)
    def get(self, request: Request, membership_id: int) -> Response:
        member = membership_get(tenant=request_context(request).tenant, membership_id=membership_id)
        return object_response(request, MemberOutput(member).data)

    @extend_schema(
        request=MemberRoleInput,
        responses=MemberOutput,
        description="Give the member another role. The last admin cannot be demoted (409 last-admin).",
    )
    def patch(self, request: Request, membership_id: int) -> Response:
        data = MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = membership_role_change_as(
            credential=request_context(request), membership_id=membership_id, role=data.validated_data["role"]
        )
        return object_response(request, MemberOutput(member).data)

    @extend_schema(
        responses={204: None},
        description=(
            "Remove the member from this tenant; their tokens (and tokens minted from them) go too. The "
            "tenant's last admin cannot be removed (409 last-admin)."
        ),
    )
    def delete(self, request: Request, membership_id: int) -> Response:
        membership_remove_as(credential=request_context(request), membership_id=membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListCreateApi(ApiView):
    permission_classes = [Requires(MEMBERS_MANAGE)]

    @extend_schema(
        responses=InvitationOutput(many=True),
        parameters=PAGING_PARAMETERS,
        description="The invitations still open (not accepted, withdrawn nor expired), newest first.",
    )
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters=INVITATION_LIST_FILTERS)
        rows, has_more = page_slice(invitation_list_open(tenant=request_context(request).tenant), page)
        return v2_list_response(
            request,
            list(InvitationOutput(rows, many=True).data),
            page=page,
            has_more=has_more,
            filters=INVITATION_LIST_FILTERS,
        )

    @extend_schema(
        request=InvitationCreateInput,
        responses={201: InvitationOutput},
        description=(
            "Email the address a link to join this tenant with the role (it works once and expires after "
            "`AURUM_INVITATION_DAYS`). An open invitation to the same address is replaced. The answer never "
            "carries the link: only the invited mailbox gets it."
        ),
    )
    def post(self, request: Request) -> Response:
        data = InvitationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitation_create_as(
            credential=request_context(request),
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            accept_url_base=_accept_page(request),
        )
        return object_response(
            request,
            InvitationOutput(invitation).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v2/invitations/{invitation.pk}"},
        )


class InvitationDetailApi(ApiView):
    permission_classes = [Requires(MEMBERS_MANAGE)]

    @extend_schema(
        responses={204: None},
        description="Withdraw the invitation: its link stops working. Withdrawing a closed one is harmless.",
    )
    def delete(self, request: Request, invitation_id: int) -> Response:
        invitation_revoke_as(credential=request_context(request), invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(ApiView):
    """Accept an invitation with its link's token, as the portal's accept page does. Anyone may call it;
    failures are throttled like sign-ins (per client address, and per email for a wrong password)."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=InvitationAcceptInput,
        responses={201: MembershipJoinedOutput},
        description=(
            "`token` is the part of the emailed link after `/invitations/`. A new user sets `password` (the "
            "password rules apply) and may give `full_name`; an existing Aurum user gives their account's "
            "password. An invitation already accepted, withdrawn, replaced or expired is a 409 "
            "`invitation-closed`; a mangled token, or one of another tenant, a 404. Too many failures: 429."
        ),
        examples=[
            OpenApiExample(
                "A new user",
                value={"token": "MTI:1tQx…", "password": "a long new passphrase", "full_name": "Nia New"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = InvitationAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        client_ip = request.META.get("REMOTE_ADDR", "")
        context = request_context_or_none(request)
        # An anonymous caller's failures cost like sign-in failures; a member's credential names who asks.
        per_ip = [signin_ip_limit(client_ip=client_ip)] if context is None else []
        _refuse_if_locked(per_ip)
        try:
            invitation = invitation_for_link(tenant=_host_tenant(request), token=data.validated_data["token"])
        except NotFoundError:
            limits_take(per_ip)
            raise
        existing = context is None and user_has_account(email=invitation.email)
        limits = signin_limits(email=invitation.email, client_ip=client_ip)
        if existing:
            _refuse_if_locked(limits)
        try:
            membership = invitation_accept(
                invitation=invitation,
                password=data.validated_data["password"],
                full_name=data.validated_data["full_name"],
                signed_in=context.user if context is not None else None,
            )
        except InvalidInputError:
            if existing:
                limits_take(limits)
            raise
        return object_response(
            request,
            MembershipJoinedOutput(membership).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "private, no-store"},
        )


def _host_tenant(request: Request) -> Tenant:
    """The tenant the request resolved to (its host's, or its credential's); on the platform's host without a
    credential there is none, and no invitation to find."""
    tenant = getattr(request._request, "tenant", None)
    if not isinstance(tenant, Tenant):
        raise NotFoundError("Open the invitation link on the workspace's own host, where it was sent from.")
    return tenant


def _accept_page(request: Request) -> str:
    """The accept page on the tenant's own host (where its portal is), whichever host the API call came to: a
    token decides the tenant on the platform's host too. The scheme and port are the request's."""
    tenant = request_context(request).tenant
    domain = tenant.get_primary_domain()
    request_host, port = split_domain_port(request.get_host())
    host = domain.domain if domain is not None else request_host
    netloc = f"{host}:{port}" if port else host
    return f"{request.scheme}://{netloc}{ACCEPT_PAGE}"


def _refuse_if_locked(limits: list[Limit]) -> None:
    wait = limits_refusal(limits) if limits else None
    if wait is not None:
        seconds = math.ceil(wait)
        raise RateLimitedError(
            f"Too many failed attempts. Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
