"""The acting credential, as the token rules need it: whose it is, which token (if any) and what it may do.

``aurum.api.context.RequestContext`` has exactly these members, so views pass the request's context as it is;
the websocket consumer and tests may pass any object with the same shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.accounts.models import ApiToken, Membership


class Credential(Protocol):
    @property
    def membership(self) -> Membership:
        """The acting member (user × tenant)."""

    @property
    def token(self) -> ApiToken | None:
        """The bearer token the request came with; None for a portal session."""

    @property
    def permissions(self) -> frozenset[str]:
        """Effective permissions: the role's, intersected with the token's scopes for a token."""
