from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from apps.accounts.models import ApiToken, Membership, User
from tenants.models import Tenant


def membership_for(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("tenant__plan").filter(user=user, tenant=tenant).first()


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(tenant=tenant).order_by("user__email")


def api_token_list(*, membership: Membership) -> QuerySet[ApiToken]:
    """Tokens the member may see: their own, or every token of the tenant for those who manage tokens."""
    tokens = ApiToken.objects.select_related("membership__user").filter(membership__tenant=membership.tenant)
    if "tokens:manage" not in membership.permissions:
        tokens = tokens.filter(membership=membership)
    return tokens.order_by("-created", "-id")


def api_token_get_for_member(*, membership: Membership, token_id: int) -> ApiToken:
    """One token the member may see; any other answers 404 without saying whether it exists."""
    token = api_token_list(membership=membership).filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such token.")
    return token
