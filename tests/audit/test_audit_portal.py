"""The portal's /settings/audit/: admins read the ledger newest first, filter it (htmx swaps the table),
page to older entries and download the exports; analysts get 403; the page keeps the portal's policy."""

from __future__ import annotations

from django.db import transaction
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.audit.services import audit_append
from tests.support.audit import head_sequence, ledger
from tests.support.page_policy import assert_page_keeps_the_policy


def _signed_in(world, role: str) -> Client:
    client = Client(HTTP_HOST=world.acme.host)
    client.force_login(User.objects.get(email=world.acme.members[role].email))
    return client


def test_admin_reads_the_log_with_the_chain_head_and_export_links(world):
    with schema_context("acme"), transaction.atomic():
        audit_append(
            action="test.portal", resource_type="scenario", resource_id="s-1", changes={"name": "Cold"}
        )

    response = _signed_in(world, "admin").get("/settings/audit/")

    html = response.content.decode()
    head = ledger("acme")[-1]
    assert response.status_code == 200
    assert_page_keeps_the_policy(response)
    assert f'id="entry-{head.sequence}"' in html and "<code>test.portal</code>" in html
    assert head.hash in html
    assert 'href="/api/v2/audit/export?format=csv"' in html
    assert 'href="/api/v2/audit/export?format=jsonl"' in html
    assert "&quot;name&quot;:&quot;Cold&quot;" in html


def test_filters_swap_the_table_and_older_entries_page_on(world):
    with schema_context("acme"), transaction.atomic():
        for n in range(55):
            audit_append(action="test.many", resource_type="test", resource_id=str(n))
    client = _signed_in(world, "admin")
    head = head_sequence("acme")

    partial = client.get("/settings/audit/?action=test.many", HTTP_HX_REQUEST="true")
    older = client.get(f"/settings/audit/?action=test.many&before={head - 49}")
    none = client.get("/settings/audit/?action=test.nothing")

    html = partial.content.decode()
    assert "<html" not in html and html.count('id="entry-') == 50
    assert f'id="entry-{head}"' in html and f'id="entry-{head - 50}"' not in html
    assert f"before={head - 49}" in html
    assert older.content.decode().count('id="entry-') == 5
    assert "No entries match." in none.content.decode()


def test_a_filter_that_means_nothing_is_a_400_page(world):
    response = _signed_in(world, "admin").get("/settings/audit/?actor=robot")

    assert response.status_code == 400
    assert "actor is a kind" in response.content.decode()


def test_analysts_cannot_open_it_and_the_settings_page_links_it_for_admins(world):
    assert _signed_in(world, "analyst").get("/settings/audit/").status_code == 403
    assert 'href="/settings/audit/"' not in _signed_in(world, "analyst").get("/settings/").content.decode()
    assert 'href="/settings/audit/"' in _signed_in(world, "admin").get("/settings/").content.decode()


def test_the_export_link_works_for_the_signed_in_admin(world):
    response = _signed_in(world, "admin").get("/api/v2/audit/export?format=csv")

    assert response.status_code == 200
    rows = response.getvalue().decode().splitlines()
    assert rows[0].startswith("sequence,at,actor_kind")
    assert ",audit.export," in rows[-1] and ",user," in rows[-1]
