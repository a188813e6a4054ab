"""Who may open a portal page: a signed-in member of the host's tenant, with the page's permission.

Every portal view is wrapped by ``portal_view``. It hands the view the request's ``RequestContext`` (tenant,
membership, *effective* permissions, as the API reads them) and turns the project's errors into the portal's
error pages: a curve outside the licence (``NotFoundError``) is the 404 page, as in the API; a missing
permission is the 403 page; bad input is a 400 page that says what to change.
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from aurum.api.context import RequestContext, request_context_or_none
from aurum.errors import AurumError, ForbiddenError, InvalidInputError, Issue, NotFoundError

P = ParamSpec("P")
PortalView = Callable[Concatenate[HttpRequest, RequestContext, P], HttpResponseBase]


def portal_view(
    permission: str | None = None,
) -> Callable[[PortalView[P]], Callable[Concatenate[HttpRequest, P], HttpResponseBase]]:
    """Wrap a view ``(request, ctx, **kwargs)``: sign-in, tenant membership and ``permission`` checked."""

    def decorate(view: PortalView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            ctx = request_context_or_none(request)
            if ctx is None or ctx.token is not None:
                if request.user.is_authenticated:  # signed in, but not a member of this host's tenant
                    logout(request)
                return redirect_to_login(request.get_full_path())
            if permission is not None and not ctx.can(permission):
                raise PermissionDenied(f"This page needs the permission '{permission}'.")
            try:
                return view(request, ctx, *args, **kwargs)
            except NotFoundError as error:
                raise Http404(error.detail) from error
            except ForbiddenError as error:
                raise PermissionDenied(error.detail) from error
            except InvalidInputError as error:
                return problem_page(request, error, status=400)
            except AurumError as error:
                return problem_page(request, error, status=error.status)

        return wrapped

    return decorate


def problem_page(request: HttpRequest, error: AurumError, *, status: int) -> HttpResponse:
    """The portal's page for an error a user can act on: what went wrong and what to change."""
    context = {"title": error.title, "detail": error.detail, "issues": error.issues, "status": status}
    return render(request, "portal/problem.html", context, status=status)


def form_invalid(form: forms.Form, *, hints: dict[str, str] | None = None) -> InvalidInputError:
    """The error for a query form that did not validate: one issue per field, with its hint if given."""
    issues = []
    for name, errors in form.errors.items():
        hint = (hints or {}).get(name, "")
        message = " ".join(str(error) for error in errors)
        issues.append(Issue(field=name, message=f"{name}: {message}{' ' + hint if hint else ''}"))
    return InvalidInputError.of(*issues)


def form_add_issues(form: forms.Form, error: InvalidInputError, fields: dict[str, str]) -> None:
    """Put each of a service's issues next to its form field (``fields`` maps the service's names to the
    form's; an issue of another field, or an error without issues, goes above the form)."""
    for issue in error.issues or ():
        form.add_error(fields.get(issue.field or "", None), issue.message)  # type: ignore[arg-type]
    if not error.issues:
        form.add_error(None, error.detail)
