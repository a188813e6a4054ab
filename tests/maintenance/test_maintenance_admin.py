"""A maintenance pass in the platform admin: its per-table report as a table a platform admin can read."""

import re

from apps.maintenance.models import MaintenanceRun


def test_a_pass_shows_each_tables_report_as_a_row(world, api):
    run = MaintenanceRun.objects.create(
        status=MaintenanceRun.Status.SUCCEEDED,
        pinned_snapshots=3,
        tables={
            "market.curve_latest": {
                "expired": 4,
                "compacted_partitions": 1,
                "files_removed": 12,
                "files_added": 2,
                "manifests_dropped": 102,
                "orphan_files": 0,
                "orphan_bytes": 1234567,
                "seconds": 0.25,
            },
            # A pass recorded before manifest pruning existed.
            "market.iso_lmp": {
                "expired": 1,
                "compacted_partitions": 0,
                "files_removed": 0,
                "files_added": 0,
                "orphan_files": 2,
                "orphan_bytes": 10,
                "seconds": 0.1,
            },
            "market.curve_observation": {"skipped": "busy: its writers held the lock", "seconds": 30.0},
            "t_acme.scenario_output": {"error": "OSError: <disk> full", "seconds": 0.01},
        },
    )
    assert api.login(email=world.staff_email, password=world.staff_password)

    page = api.get(f"/admin/maintenance/maintenancerun/{run.pk}/change/").content.decode()

    def cells(table: str) -> str:
        found = re.search(rf"<tr><th>{re.escape(table)}</th>(.*?)</tr>", page)
        assert found is not None, table
        return found.group(1)

    assert "<th>manifests dropped</th>" in page
    assert re.findall(r"<td>(.*?)</td>", cells("market.curve_latest")) == [
        "4", "12 → 2 (1 partitions)", "102", "0 (1,234,567 bytes)", "0.25"
    ]  # fmt: skip
    assert re.findall(r"<td>(.*?)</td>", cells("market.iso_lmp"))[2] == "–"
    assert "busy: its writers held the lock" in cells("market.curve_observation")
    assert "OSError: &lt;disk&gt; full" in cells("t_acme.scenario_output")  # escaped, never markup
    assert '"manifests_dropped"' not in page  # no raw JSON
