"""The provider's claims: email and the user's Django groups as ``groups`` (what Okta or Keycloak send)."""

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "name": user.get_full_name() or user.username,
            "groups": sorted(group.name for group in user.groups.all()),
        }
