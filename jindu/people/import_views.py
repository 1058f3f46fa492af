"""Pages of the legacy register import: upload, preview, confirm, rejected rows, template.

The upload → preview → confirm flow is the shared one (``ImportPages``); the
checks are ``jindu.people.importer.PersonImport``'s, run in the signed-in
user's scope.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.orgs.views_import import ImportPages


def _person_spec(request: HttpRequest, options: dict[str, Any]) -> Any:
    from jindu.people.importer import PersonImport

    return PersonImport(actor=request.user)


PERSON_IMPORT = ImportPages(
    spec_key="persons",
    upload_url="people:import",
    preview_url="people:import_preview",
    rejected_url="people:import_rejected",
    template_url="people:import_template",
    back_url="people:list",
    back_label=gettext_lazy("人员名册"),
    make_spec=_person_spec,
    upload_template="people/import/upload.html",
    preview_template="people/import/preview.html",
)


@require(Perm.RECORD_WRITE)
def person_import(request: HttpRequest) -> HttpResponse:
    return PERSON_IMPORT.upload(request)


@require(Perm.RECORD_WRITE)
def person_import_preview(request: HttpRequest, token: str) -> HttpResponse:
    return PERSON_IMPORT.preview(request, token)


@require(Perm.RECORD_WRITE)
def person_import_rejected(request: HttpRequest, token: str) -> HttpResponse:
    return PERSON_IMPORT.rejected(request, token)


@require(Perm.RECORD_WRITE)
def person_import_template(request: HttpRequest) -> HttpResponse:
    return PERSON_IMPORT.template(request)
