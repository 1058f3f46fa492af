"""Correcting follow-up: deleting a drug test or visit recorded by mistake (删除误录记录).

A page shows the record and asks for the reason; posting it deletes the record
through ``followup.delete_test`` / ``delete_visit``, which audit it. Reached from
the "删除" link on each row of a person's follow-up section, shown only to users
whose roles allow it (``followup.may_delete``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.forms import apply_errors
from jindu.people import followup
from jindu.people.models import DrugTest, Person, Visit


class DeleteForm(forms.Form):
    # Not required here: the service says what a reason must be, in one place.
    reason = forms.CharField(
        label=gettext_lazy("删除原因"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=gettext_lazy("如：录错人员、结果录错、重复录入；将记入审计日志"),
    )


def _record(request: HttpRequest, model: type[DrugTest] | type[Visit], pk: int) -> Any:
    """The record, if both it and its person are in the user's scope; else 404."""
    qs = model.objects.select_related("person", "person__org_unit", "recorded_by").filter(
        person__in=Person.objects.for_user(request.user)
    )
    record = get_in_scope_or_404(qs, request.user, pk=pk)
    if not followup.may_delete(request.user, record):
        raise PermissionDenied(
            _("该记录录入已超过%(days)d天，只能由县禁毒办删除") % {"days": followup.CORRECTION_DAYS}
        )
    return record


def _next_url(request: HttpRequest, person: Person) -> str:
    """A page on this site the link came from, else the person's page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("people:detail", kwargs={"pk": person.pk})


def _page(
    request: HttpRequest, template: str, record: Any, form: DeleteForm, **extra: Any
) -> HttpResponse:
    context = {
        "person": record.person,
        "record": record,
        "form": form,
        "next": _next_url(request, record.person),
        "long_ago": followup.entered_long_ago(record),
        "days": followup.CORRECTION_DAYS,
        **extra,
    }
    return render(request, template, context)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def test_delete(request: HttpRequest, pk: int) -> HttpResponse:
    test = _record(request, DrugTest, pk)
    person = test.person
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            followup.delete_test(actor=request.user, test=test, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已删除%(name)s %(day)s 的检测记录")
                % {"name": person.name, "day": f"{test.tested_on:%Y-%m-%d}"},
            )
            return redirect(_next_url(request, person))
    result = test.result
    label = str(DrugTest.Result(result).label) if result in DrugTest.Result.values else result
    return _page(request, "people/followup/test_delete.html", test, form, result_label=label)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def visit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _record(request, Visit, pk)
    person = visit.person
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            followup.delete_visit(
                actor=request.user, visit=visit, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已删除%(name)s %(day)s 的%(kind)s记录")
                % {
                    "name": person.name,
                    "day": f"{visit.visited_on:%Y-%m-%d}",
                    "kind": visit.get_kind_display(),
                },
            )
            return redirect(_next_url(request, person))
    help_label = (
        registry.labels(followup.HELP_KINDS).get(visit.help_kind, visit.help_kind)
        if visit.help_kind
        else ""
    )
    return _page(request, "people/followup/visit_delete.html", visit, form, help_label=help_label)
