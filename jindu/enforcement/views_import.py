"""Pages of the case import: upload, preview, confirm, rejected rows, template.

The upload → preview → confirm flow is the shared one (``ImportPages``); the
checks are ``jindu.enforcement.importer.CaseImport``'s, run in the signed-in
user's scope.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.orgs.views_import import ImportPages


def _case_spec(request: HttpRequest, options: dict[str, Any]) -> Any:
    from jindu.enforcement.importer import CaseImport

    return CaseImport(actor=request.user)


CASE_IMPORT = ImportPages(
    spec_key="cases",
    upload_url="enforcement:import",
    preview_url="enforcement:import_preview",
    rejected_url="enforcement:import_rejected",
    template_url="enforcement:import_template",
    back_url="enforcement:cases",
    back_label=gettext_lazy("涉毒案件"),
    make_spec=_case_spec,
)


@require(Perm.RECORD_WRITE)
def case_import(request: HttpRequest) -> HttpResponse:
    return CASE_IMPORT.upload(request)


@require(Perm.RECORD_WRITE)
def case_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    return CASE_IMPORT.preview(request, token)


@require(Perm.RECORD_WRITE)
def case_import_rejected(request: HttpRequest, token: str) -> HttpResponse:
    return CASE_IMPORT.rejected(request, token)


@require(Perm.RECORD_WRITE)
def case_import_template(request: HttpRequest) -> HttpResponse:
    return CASE_IMPORT.template(request)
