"""From a provider's claims to a role, and the portal's "value = role" mapping text."""

from __future__ import annotations

import pytest

from apps.accounts.sso.claims import role_from_claims, role_mapping_parse, role_mapping_text

MAPPING = {"aurum-admins": "admin", "aurum-traders": "trader", "aurum-viewers": "viewer"}


@pytest.mark.parametrize(
    ("claims", "default", "role"),
    [
        ({"groups": ["aurum-viewers", "aurum-admins", "x"]}, "", "admin"),  # the most privileged wins
        ({"groups": ["aurum-traders"]}, "viewer", "trader"),
        ({"groups": "aurum-viewers, aurum-traders"}, "", "trader"),  # a string claim: spaces or commas
        ({"groups": ["unmapped"]}, "analyst", "analyst"),  # none maps: the default
        ({"groups": ["unmapped"]}, "", None),  # none maps, no default: refused
        ({}, "", None),
        ({"groups": {"aurum-admins": True}}, "", None),  # not a list nor a string: no values
    ],
)
def test_role_from_claims(claims, default, role):
    assert role_from_claims(claims=claims, claim="groups", mapping=MAPPING, default_role=default) == role


def test_mapping_text_round_trips_and_ignores_blank_lines_and_comments():
    text = "# who is who\naurum-admins = admin\n\n  cn=traders,ou=groups = trader  \n"

    mapping = role_mapping_parse(text)

    assert mapping == {"aurum-admins": "admin", "cn=traders,ou=groups": "trader"}
    assert role_mapping_parse(role_mapping_text(mapping)) == mapping


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aurum-admins", "Line 1: write 'claim value = role'."),
        ("ok = viewer\n= admin", "Line 2: write 'claim value = role'."),
        ("x = root", "Line 1: 'root' is not a role (use viewer, analyst, trader, admin)."),
    ],
)
def test_bad_mapping_lines_are_named(text, message):
    with pytest.raises(ValueError) as error:
        role_mapping_parse(text)

    assert str(error.value) == message
