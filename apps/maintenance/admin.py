from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.maintenance.models import MaintenanceRun

# The per-table report of a pass (apps/maintenance/services.py), as columns: heading -> the cell's text.
REPORT_COLUMNS: dict[str, Callable[[dict[str, Any]], str]] = {
    "snapshots expired": lambda r: _number(r.get("expired")),
    "files compacted": lambda r: (
        f"{_number(r.get('files_removed'))} → {_number(r.get('files_added'))} "
        f"({_number(r.get('compacted_partitions'))} partitions)"
    ),
    "manifests dropped": lambda r: _number(r.get("manifests_dropped")),
    "orphans removed": lambda r: f"{_number(r.get('orphan_files'))} ({_number(r.get('orphan_bytes'))} bytes)",
    "seconds": lambda r: _number(r.get("seconds")),
}


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("started_at", "finished_at", "status", "dry_run", "pinned_snapshots")
    list_filter = ("status", "dry_run")
    readonly_fields = ("started_at", "finished_at", "status", "dry_run", "pinned_snapshots", "report")
    exclude = ("tables",)

    @admin.display(description="Per table")
    def report(self, run: MaintenanceRun) -> SafeString:
        """One row per table: what the pass did there, or why it skipped it or failed (a pass recorded by
        an earlier release lacks the newer columns: shown as –)."""
        head = format_html_join("", "<th>{}</th>", ((heading,) for heading in REPORT_COLUMNS))
        rows = []
        for identifier, report in sorted(run.tables.items()):
            if "expired" in report:
                cells = format_html_join(
                    "", "<td>{}</td>", ((cell(report),) for cell in REPORT_COLUMNS.values())
                )
            else:
                note = report.get("skipped") or report.get("error") or ""
                cells = format_html('<td colspan="{}">{}</td>', len(REPORT_COLUMNS), note)
            rows.append(format_html("<tr><th>{}</th>{}</tr>", identifier, cells))
        body = format_html_join("", "{}", ((row,) for row in rows))
        return format_html(
            "<table><thead><tr><th>table</th>{}</tr></thead><tbody>{}</tbody></table>", head, body
        )

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
