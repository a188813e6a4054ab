"""The project's errors. Services and selectors raise these, never DRF or HTTP exceptions; one handler
(``aurum.api.problems``) turns each into an RFC 7807 problem with its status, and management commands, tasks
and the portal read the same ``detail`` and ``issues``.

``slug`` becomes the problem ``type`` (``https://aurum.dev/problems/<slug>``); ``issues`` become the
problem's ``errors`` list, one per field, so a client can show each message where it belongs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem with one part of the input: ``field`` is a dotted path (``terms.capacity_factor``,
    ``assumptions[2].payload.sigma``) or None for the request as a whole."""

    field: str | None
    message: str
    code: str = "invalid"
    severity: str = "error"
    suggestion: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"field": self.field, "message": self.message, "code": self.code}
        if self.severity != "error":
            body["severity"] = self.severity
        if self.suggestion:
            body["suggestion"] = self.suggestion
        return body


class AurumError(Exception):
    """Base of every error the API answers with a problem body. Subclasses fix the status and title."""

    status: int = 500
    title: str = "Internal Server Error"
    slug: str = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        issues: Iterable[Issue] = (),
        slug: str | None = None,
        status: int | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.issues: tuple[Issue, ...] = tuple(issues)
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, Any] = extra  # further problem members (``limit``, ``budget``, ...)
        # An instance may name a more specific problem type (``invalid-cursor``) or, when converting a
        # framework's exception, carry its status.
        if slug is not None:
            self.slug = slug
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title


class InvalidInputError(AurumError):
    """The request is not valid (400). ``issues`` say what, field by field."""

    status = 400
    title = "Bad Request"
    slug = "invalid"

    @classmethod
    def of(cls, *issues: Issue, detail: str | None = None, **kwargs: Any) -> InvalidInputError:
        """One error for ``issues``; its detail is the single issue's message, or a pointer to ``errors``."""
        errors = [issue for issue in issues if issue.severity == "error"] or list(issues)
        if detail is None:
            if len(errors) == 1:
                only = errors[0]
                detail = only.message if only.field in (None, "") else f"{only.field}: {only.message}"
            else:
                detail = "The request is not valid; see errors."
        return cls(detail, issues=issues, **kwargs)

    @classmethod
    def field(
        cls, field: str | None, message: str, *, code: str = "invalid", **kwargs: Any
    ) -> InvalidInputError:
        return cls.of(Issue(field, message, code), **kwargs)


class UnauthenticatedError(AurumError):
    status = 401
    title = "Unauthorized"
    slug = "unauthenticated"


class ForbiddenError(AurumError):
    """Known to the caller but not theirs to do (403). Objects the caller may not see are NotFound."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFoundError(AurumError):
    """Absent, or not the caller's to see: the answer never says which (404)."""

    status = 404
    title = "Not Found"
    slug = "not-found"


class ConflictError(AurumError):
    """The request clashes with the current state (a name taken, an archived scenario run) (409)."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class GoneError(AurumError):
    """The resource existed but is no longer available (an expired download) (410)."""

    status = 410
    title = "Gone"
    slug = "gone"


class PreconditionFailedError(AurumError):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


class PayloadTooLargeError(AurumError):
    status = 413
    title = "Payload Too Large"
    slug = "payload-too-large"


class UnprocessableError(AurumError):
    """Well-formed but refused by a rule (422): an idempotency key reused for other parameters, a budget
    exceeded."""

    status = 422
    title = "Unprocessable Content"
    slug = "unprocessable"


class RateLimitedError(AurumError):
    status = 429
    title = "Too Many Requests"
    slug = "rate-limited"


class UnavailableError(AurumError):
    """A dependency is down and the request cannot be served now (503); retrying later may work."""

    status = 503
    title = "Service Unavailable"
    slug = "unavailable"
