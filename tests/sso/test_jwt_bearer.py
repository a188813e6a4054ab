"""Bearer JWTs of a tenant's issuer on the v1 API (the original Aurum's integrators): validated against the
issuer's JWKS fetched over HTTP from the real provider process (``/rotating``, whose keys the tests rotate),
mapped to the member with the token's email, with the role's permissions narrowed to the token's scopes."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from apps.accounts.roles import role_permissions
from tests.support.oidc import Provider, public_jwk, rsa_key, sign, sso_configure

AUDIENCE = "acme-integrations"
V1 = "/api/v1/scenarios"


@pytest.fixture
def keys() -> dict[str, Any]:
    return {"k1": rsa_key(), "k2": rsa_key(), "k3": rsa_key(), "ec1": ec.generate_private_key(ec.SECP256R1())}


@pytest.fixture
def acme_jwt(world, oidc_provider: Provider, keys):
    oidc_provider.keys_publish([public_jwk(keys["k1"], kid="k1", alg="RS256")])
    return sso_configure(
        "acme",
        is_enabled=False,  # no portal sign-in: bearer JWTs only
        issuer=oidc_provider.rotating_issuer,
        client_id=AUDIENCE,
        client_secret="unused-here",
        jwt_enabled=True,
    )


def _claims(provider: Provider, email: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": provider.rotating_issuer,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "email": email,
        **extra,
    }


def _get(api, token: str, path: str = V1, tenant: str = "acme") -> Any:
    return api.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TENANT_ID=tenant)


def test_a_jwt_of_the_tenants_issuer_acts_as_the_member(world, api, oidc_provider, keys, acme_jwt):
    email = world.acme.members["analyst"].email
    token = sign(_claims(oidc_provider, email), keys["k1"], kid="k1", alg="RS256")

    response = _get(api, token)
    me = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TENANT_ID="acme")

    assert response.status_code == 200, response.content
    assert me.status_code == 401  # JWTs only on the v1 API: v2 reads it as a (malformed) aurum_ token


def test_the_original_v1_paths_and_the_host_name_the_tenant_too(world, api, oidc_provider, keys, acme_jwt):
    token = sign(
        _claims(oidc_provider, world.acme.members["viewer"].email), keys["k1"], kid="k1", alg="RS256"
    )

    by_path = api.get("/v1/scenarios", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TENANT_ID="acme")
    by_host = api.get(V1, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST=world.acme.host)

    assert by_path.status_code == 200, by_path.content
    assert by_host.status_code == 200, by_host.content


def test_scopes_in_the_token_narrow_the_roles_permissions(world, api, oidc_provider, keys, acme_jwt):
    email = world.acme.members["trader"].email
    narrow = sign(_claims(oidc_provider, email, scope="scenarios:read"), keys["k1"], kid="k1", alg="RS256")
    full = sign(_claims(oidc_provider, email), keys["k1"], kid="k1", alg="RS256")
    headers = {"HTTP_X_TENANT_ID": "acme", "format": "json"}

    read = _get(api, narrow)
    write_narrow = api.post(V1, {"name": "jwt narrow"}, HTTP_AUTHORIZATION=f"Bearer {narrow}", **headers)
    write_full = api.post(V1, {"name": "jwt full"}, HTTP_AUTHORIZATION=f"Bearer {full}", **headers)

    assert "scenarios:write" in role_permissions("trader")
    assert read.status_code == 200
    assert write_narrow.status_code == 403, write_narrow.content
    assert write_full.status_code == 201, write_full.content


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "token expired"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"iss": "http://127.0.0.1:1/elsewhere"}, "wrong issuer"),
        ({"nbf": int(time.time()) + 3600}, "token not valid yet (nbf or iat in the future)"),
    ],
)
def test_claims_that_do_not_hold_are_refused_saying_which(
    world, api, oidc_provider, keys, acme_jwt, change, reason
):
    claims = {**_claims(oidc_provider, world.acme.members["analyst"].email), **change}
    token = sign(claims, keys["k1"], kid="k1", alg="RS256")

    response = _get(api, token)

    assert response.status_code == 401
    assert response.json()["detail"] == f"The bearer token is not valid ({reason})."
    assert response["WWW-Authenticate"] == 'Bearer realm="aurum"'


def test_a_key_the_issuer_does_not_publish_is_refused(world, api, oidc_provider, keys, acme_jwt):
    email = world.acme.members["analyst"].email
    unknown = sign(_claims(oidc_provider, email), keys["k2"], kid="k2", alg="RS256")
    impostor = sign(_claims(oidc_provider, email), keys["k2"], kid="k1", alg="RS256")  # a published key's id

    assert _get(api, unknown).json()["detail"] == (
        "The bearer token is not valid (unknown signing key (not in the issuer's JWKS))."
    )
    assert _get(api, impostor).json()["detail"] == "The bearer token is not valid (bad signature)."


def test_symmetric_and_unsigned_algorithms_are_refused(world, api, oidc_provider, keys, acme_jwt):
    claims = _claims(oidc_provider, world.acme.members["analyst"].email)
    hmac = jwt.encode(claims, "the-client-secret", algorithm="HS256", headers={"kid": "k1"})
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]

    assert _get(api, hmac).json()["detail"] == (
        "The bearer token is not valid (algorithm 'HS256' is not accepted (use RS256 or ES256))."
    )
    assert _get(api, unsigned).json()["detail"] == (
        "The bearer token is not valid (algorithm 'none' is not accepted (use RS256 or ES256))."
    )


def test_es256_keys_work_too(world, api, oidc_provider, keys, acme_jwt):
    oidc_provider.keys_publish([public_jwk(keys["ec1"], kid="ec1", alg="ES256")])
    token = sign(
        _claims(oidc_provider, world.acme.members["analyst"].email), keys["ec1"], kid="ec1", alg="ES256"
    )

    assert _get(api, token).status_code == 200


def test_key_rotation_new_keys_are_fetched_and_retired_ones_refused(
    world, api, oidc_provider, keys, acme_jwt
):
    email = world.acme.members["analyst"].email
    old = sign(_claims(oidc_provider, email), keys["k1"], kid="k1", alg="RS256")
    new = sign(_claims(oidc_provider, email), keys["k3"], kid="k3", alg="RS256")
    fetched = oidc_provider.jwks_requests()
    assert _get(api, old).status_code == 200
    assert _get(api, old).status_code == 200
    assert oidc_provider.jwks_requests() == fetched + 1  # cached after the first

    # When the provider rotates: k3 in, k1 out
    oidc_provider.keys_publish([public_jwk(keys["k3"], kid="k3", alg="RS256")])

    # Then a token of the new key is accepted after one refetch, and the retired key's refused
    assert _get(api, new).status_code == 200
    assert oidc_provider.jwks_requests() == fetched + 2
    assert _get(api, old).json()["detail"] == (
        "The bearer token is not valid (unknown signing key (not in the issuer's JWKS))."
    )


def test_unknown_key_ids_refetch_at_most_once_per_interval(
    world, api, oidc_provider, keys, acme_jwt, settings
):
    settings.AURUM_SSO_JWKS_REFETCH_SECONDS = 60
    email = world.acme.members["analyst"].email
    assert (
        _get(api, sign(_claims(oidc_provider, email), keys["k1"], kid="k1", alg="RS256")).status_code == 200
    )
    fetched = oidc_provider.jwks_requests()

    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        assert (
            _get(api, sign(_claims(oidc_provider, email), keys["k2"], kid=kid, alg="RS256")).status_code
            == 401
        )

    assert oidc_provider.jwks_requests() == fetched + 1


def test_no_answer_tells_which_tenants_exist_or_accept_jwts(world, api, oidc_provider, keys, acme_jwt):
    token = sign(
        _claims(oidc_provider, world.globex.members["analyst"].email), keys["k1"], kid="k1", alg="RS256"
    )

    globex = _get(api, token, tenant="globex")  # exists, accepts no JWTs
    nowhere = _get(api, token, tenant="no-such-tenant")

    assert globex.status_code == nowhere.status_code == 401
    assert globex.json()["detail"] == nowhere.json()["detail"]


def test_a_valid_token_of_someone_who_is_not_a_member_is_refused(world, api, oidc_provider, keys, acme_jwt):
    for email in (world.globex.members["admin"].email, "nobody@acme.example"):
        token = sign(_claims(oidc_provider, email), keys["k1"], kid="k1", alg="RS256")

        response = _get(api, token)

        assert response.status_code == 401
        assert response.json()["detail"] == (
            "The bearer token is not valid (the token's subject is not a member of this tenant)."
        )


def test_aurum_tokens_stay_the_default_beside_jwts(world, api, acme_jwt):
    response = api.get(V1, HTTP_X_TENANT_ID="acme", **world.acme.auth("analyst"))

    assert response.status_code == 200
