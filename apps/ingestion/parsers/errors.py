"""Errors raised for workbooks that cannot be parsed.

Every error has a stable machine `code` (for API responses, metrics and tests) and a message written for the
person who uploaded the file: what is wrong and, where possible, what to do about it.
"""

from __future__ import annotations

from typing import ClassVar


class WorkbookError(Exception):
    """Base class: the workbook cannot be turned into curve rows."""

    code: ClassVar[str] = "workbook_error"

    def __init__(self, message: str, *, filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename

    def __str__(self) -> str:
        return self.message


class WorkbookNotFoundError(WorkbookError):
    code = "file_not_found"


class WorkbookTooLargeError(WorkbookError):
    code = "file_too_large"


class NotAnXlsxError(WorkbookError):
    code = "not_xlsx"


class CorruptWorkbookError(WorkbookError):
    code = "corrupt_workbook"


class ExpansionLimitError(WorkbookError):
    """The archive or a sheet would expand beyond the configured limits (zip bomb, far-away cell)."""

    code = "expansion_limit"


class UnknownVendorError(WorkbookError):
    code = "unknown_vendor"


class MissingAsOfError(WorkbookError):
    code = "missing_asof"


class LayoutMismatchError(WorkbookError):
    """The sheets or header labels are not those of the vendor the file claims to come from."""

    code = "layout_mismatch"


class EmptyWorkbookError(WorkbookError):
    code = "empty_workbook"


class ContractSchemaError(WorkbookError):
    """The rows to publish lack a column (or type, or required value) the dataset's contract declares
    (apps/ingestion/contracts.py, decision 0035)."""

    code = "contract_schema"
