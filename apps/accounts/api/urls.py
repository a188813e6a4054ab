from django.urls import path

from apps.accounts.api.members import (
    InvitationAcceptApi,
    InvitationDetailApi,
    InvitationListCreateApi,
    MemberDetailApi,
    MemberListApi,
)
from apps.accounts.api.sso import SsoV2Api
from apps.accounts.api.views import MeApi, TokenDetailApi, TokenListCreateApi

urlpatterns = [
    path("me", MeApi.as_view(), name="me"),
    path("tokens", TokenListCreateApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>", TokenDetailApi.as_view(), name="token-detail"),
    path("members", MemberListApi.as_view(), name="member-list"),
    path("sso", SsoV2Api.as_view(), name="sso"),
    path("members/<int:membership_id>", MemberDetailApi.as_view(), name="member-detail"),
    path("invitations", InvitationListCreateApi.as_view(), name="invitation-list"),
    path("invitations/accept", InvitationAcceptApi.as_view(), name="invitation-accept"),
    path("invitations/<int:invitation_id>", InvitationDetailApi.as_view(), name="invitation-detail"),
]
