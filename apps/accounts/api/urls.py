from django.urls import path

from apps.accounts.api.sso import SsoV2Api
from apps.accounts.api.views import MeApi, MemberListApi, TokenDetailApi, TokenListCreateApi

urlpatterns = [
    path("me", MeApi.as_view(), name="me"),
    path("tokens", TokenListCreateApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>", TokenDetailApi.as_view(), name="token-detail"),
    path("members", MemberListApi.as_view(), name="member-list"),
    path("sso", SsoV2Api.as_view(), name="sso"),
]
