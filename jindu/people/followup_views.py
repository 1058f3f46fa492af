"""Follow-up pages: recording tests, visits and absences; a person's follow-up;
"my people"; the township's overdue list and its export.

Recording forms are phone-first. From a card on "my people" the test form
opens inside the card (htmx) and answers with the card redrawn; without
JavaScript the same links open the form as a page and come back.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import Column, Exporter, export_response
from jindu.core.links import keyed_url
from jindu.core.masking import mask, mask_id_number
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.forms import apply_errors
from jindu.people import followup, worklist
from jindu.people.dates import add_months
from jindu.people.markup import badges
from jindu.people.models import Absence, DrugTest, FollowUpPolicy, Measure, Person, Visit
from jindu.people.rules import days_away, flags_for, is_running, measure_anchor, measure_until
from jindu.people.schedule import (
    COMMUNITY_KINDS,
    Cadence,
    Task,
    compute,
    history,
    months_between,
)
from jindu.people.status import status_on

RECENT = 10
CARDS = 30
OVERDUE_PAGE = 50
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE_WIDGET,
        error_messages={
            "required": gettext_lazy("请填写%(label)s") % {"label": label},
            "invalid": gettext_lazy("日期格式应为“年-月-日”，如 2025-03-05"),
        },
    )


class TestForm(forms.Form):
    tested_on = _date_field(gettext_lazy("检测日期"))
    method = forms.ChoiceField(
        label=gettext_lazy("检测方式"),
        choices=DrugTest.Method.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择检测方式")},
    )
    result = forms.ChoiceField(
        label=gettext_lazy("检测结果"),
        choices=DrugTest.Result.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择检测结果")},
    )
    notes = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)


class VisitForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=Visit.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择类型")},
    )
    visited_on = _date_field(gettext_lazy("日期"))
    help_kind = forms.ChoiceField(label=gettext_lazy("帮扶类型"), required=False)
    summary = forms.CharField(
        label=gettext_lazy("情况记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get("help_kind") if self.is_bound else None
        self.fields["help_kind"].choices = [
            ("", _("（请选择）")),
            *registry.choices(followup.HELP_KINDS, current=current),
        ]


class AbsenceForm(forms.Form):
    left_on = _date_field(gettext_lazy("离开日期"))
    authorised = forms.BooleanField(
        label=gettext_lazy("已请假（经乡镇/街道同意）"),
        required=False,
        help_text=gettext_lazy("未经同意离开本县的，登记后即为脱管，并提醒帮教小组"),
    )
    destination = forms.CharField(label=gettext_lazy("去向"), max_length=200, required=False)
    returned_on = _date_field(gettext_lazy("返回日期"), required=False)
    notes = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)


class ReturnForm(forms.Form):
    returned_on = _date_field(gettext_lazy("返回日期"))


# ------------------------------------------------------------------ helpers


def _person(request: HttpRequest, pk: int) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("org_unit"), request.user, pk=pk)


# Each page a row links to, addressed by the person's id (``keyed_url``: reversed
# once per list rather than once per row and link: a list has hundreds of rows).
ROW_LINKS = ("followup", "test_add", "visit_add")


def with_links(rows: list[worklist.Row]) -> list[worklist.Row]:
    urls = {name: keyed_url(f"people:{name}") for name in ROW_LINKS}
    for row in rows:
        pk = row.person.pk
        row.links = {name: url(pk) for name, url in urls.items()}
    return rows


# ------------------------------------------------------------------ row markup
# The rows of "my people" and of the overdue list are drawn here rather than by
# an included template each: a page holds fifty to a hundred of them, and
# Django's templates spent a third of the page's time looking up their dozens
# of variables. The page around them stays in its template; the strings are the
# templates' own (same message ids, same escaping).

_LINE_ICONS = {
    "overdue": "bi-exclamation-octagon-fill text-danger",
    "soon": "bi-alarm-fill text-warning",
}
_LINE_ICON = "bi-calendar-check text-body-secondary"


def _status(row: worklist.Row, classes: str) -> str:
    if not row.status:
        return ""
    return f'<span class="{classes}badge {row.status_badge}">{escape(row.status.label)}</span>'


def _task_span(line: worklist.TaskLine) -> str:
    danger = ' class="text-danger"' if line.state == "overdue" else ""
    return f"<strong>{escape(line.label)}</strong> <span{danger}>{escape(line.text)}</span>"


def overdue_row_html(row: worklist.Row) -> SafeString:
    """One person on the township's overdue list."""
    person = row.person
    year = f" · {escape(row.year_label)}" if row.year_label else ""
    lines = "".join(
        f'<li class="jd-task" data-task="{line.task}" data-state="{line.state}">'
        f"{_task_span(line)}</li>"
        for line in row.task_lines
    )
    flags = row.flag_labels
    flags_html = (
        f"<div>{badges(flags, 'text-bg-danger text-wrap me-1 mb-1')}</div>" if flags else ""
    )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'\n<li class="list-group-item jd-overdue-row" data-person="{row.key}">\n'
        '  <div class="d-flex flex-wrap align-items-baseline gap-2">\n'
        f'    <a class="fw-semibold jd-tap" href="{escape(row.links["followup"])}">'
        f"{escape(person.name)}</a>\n"
        f'    <span class="small text-body-secondary">{escape(person.get_sex_display())} · '
        f"{escape(person.org_unit.name)}{year}</span>\n"
        f"    {_status(row, 'ms-auto ')}\n"
        "  </div>\n"
        '  <ul class="list-unstyled mb-1 small jd-tasks">\n'
        f"    {lines}\n"
        "  </ul>\n"
        f"  {flags_html}\n"
        "</li>\n\n"
    )


def line_html(row: worklist.Row) -> SafeString:
    """One person in one line on "my people" (after the cards): the first task and the flags."""
    first = row.task_lines[0] if row.task_lines else None
    task = ""
    if first:
        danger = " text-danger" if first.state == "overdue" else ""
        task = f'<div class="small{danger}">{escape(first.label)} {escape(first.text)}</div>'
    flags = ""
    if row.flags.needs_action:
        flags = f"<div>{badges(row.flag_labels, 'text-bg-danger text-wrap me-1')}</div>"
    return mark_safe(  # noqa: S308 - every value above is escaped
        '\n    <li class="list-group-item">\n'
        '      <div class="d-flex flex-wrap align-items-baseline gap-2">\n'
        f'        <a class="fw-semibold jd-tap me-auto" href="{escape(row.links["followup"])}">'
        f"{escape(row.person.name)}</a>\n"
        f'        <span class="small text-body-secondary">{escape(row.person.org_unit.name)}'
        "</span>\n"
        "      </div>\n"
        f"      {task}\n"
        f"      {flags}\n"
        "    </li>\n    "
    )


def other_html(row: worklist.Row) -> SafeString:
    """One person on "my people" who is not under a community measure."""
    return mark_safe(  # noqa: S308 - every value above is escaped
        '\n    <li class="list-group-item d-flex flex-wrap align-items-center gap-2">\n'
        f'      <a class="jd-tap me-auto" href="{escape(row.links["followup"])}">'
        f"{escape(row.person.name)}</a>\n"
        f'      <span class="small text-body-secondary">{escape(row.person.org_unit.name)}'
        "</span>\n"
        f"      {_status(row, '')}\n"
        "    </li>\n    "
    )


def card_html(
    row: worklist.Row, *, next_q: str, can_write: bool, note: str = "", form: str = ""
) -> SafeString:
    """One person's card on "my people": what is due, the flags, and buttons to record
    (or ``form``, the test form drawn inside the card by ``_card``)."""
    person, links, key = row.person, row.links, row.key
    border = (
        " border-danger" if row.needs_action else " border-warning" if row.due_this_week else ""
    )
    sub = escape(person.org_unit.name)
    if row.year_label:
        sub += f" · {escape(row.year_label)}"
    if person.last_contact_on:
        sub += f" · {escape(_('最近联系'))} {person.last_contact_on:%Y-%m-%d}"
    note_html = ""
    if note:
        note_html = (
            '<div class="alert alert-success py-2 mb-2" role="status">'
            f'<i class="bi bi-check-circle" aria-hidden="true"></i> {escape(note)}</div>'
        )
    tasks = ""
    if row.under_community:
        items = "".join(
            f'\n      <li class="d-flex align-items-start gap-2 py-1 jd-task" '
            f'data-task="{line.task}" data-state="{line.state}">\n'
            f'        <i class="bi {_LINE_ICONS.get(line.state, _LINE_ICON)}" aria-hidden="true"></i>\n'
            f"        <span>{_task_span(line)}</span>\n"
            "      </li>\n      "
            for line in row.task_lines
        ) or (
            '\n      <li class="text-success jd-task-none">'
            '<i class="bi bi-check-circle-fill" aria-hidden="true"></i> '
            f"{escape(_('本期检测、小结、评估均已完成'))}</li>\n      "
        )
        tasks = f'\n    <ul class="list-unstyled mb-2 jd-tasks">\n      {items}\n    </ul>\n    '
    flags = row.flag_labels
    flags_html = (
        f'<div class="mb-2">{badges(flags, "text-bg-danger text-wrap me-1 mb-1")}</div>'
        if flags
        else ""
    )
    actions = form
    if not form and can_write:
        test_add, nq = escape(links["test_add"]), escape(next_q)
        primary = "primary" if row.test_due else "outline-primary"
        actions = (
            '\n    <div class="d-grid gap-2 d-sm-flex">\n'
            f'      <a class="btn btn-{primary} btn-lg jd-tap" href="{test_add}?next={nq}"\n'
            f'         hx-get="{test_add}?inline=1&amp;next={nq}" hx-target="#jd-card-{key}" '
            'hx-swap="outerHTML"><i class="bi bi-droplet" aria-hidden="true"></i> '
            f"{escape(_('登记尿检'))}</a>\n"
            '      <a class="btn btn-outline-secondary btn-lg jd-tap" '
            f'href="{escape(links["visit_add"])}?next={nq}"><i class="bi bi-chat-dots" '
            f'aria-hidden="true"></i> {escape(_("谈话走访"))}</a>\n'
            '      <a class="btn btn-outline-secondary btn-lg jd-tap" '
            f'href="{escape(links["followup"])}"><i class="bi bi-three-dots" '
            f'aria-hidden="true"></i> {escape(_("更多"))}</a>\n'
            "    </div>\n    "
        )
    return mark_safe(  # noqa: S308 - every value above is escaped; ``form`` is rendered HTML
        f'\n<article class="card mb-3 jd-person-card{border}" id="jd-card-{key}" '
        f'aria-labelledby="jd-card-name-{key}">\n'
        '  <div class="card-body p-3">\n'
        '    <div class="d-flex flex-wrap align-items-baseline gap-2">\n'
        f'      <h2 class="h5 mb-0 me-auto" id="jd-card-name-{key}">'
        f'<a href="{escape(links["followup"])}">{escape(person.name)}</a></h2>\n'
        f"      {_status(row, '')}\n"
        "    </div>\n"
        f'    <div class="small text-body-secondary mb-2">{sub}</div>\n'
        f"    {note_html}\n"
        f"    {tasks}\n"
        f"    {flags_html}\n"
        f"    {actions}\n"
        "  </div>\n"
        "</article>\n\n"
    )


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _next_url(request: HttpRequest, person_pk: int) -> str:
    """Where to go after saving: a page on this site the form came from, else the person's."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("people:followup", kwargs={"pk": person_pk})


def _card(
    request: HttpRequest, person: Person, *, note: str = "", form: forms.Form | None = None
) -> HttpResponse:
    """A person's card on "my people", redrawn after a change or holding the test form."""
    today = timezone.localdate()
    qs = Person.objects.for_user(request.user).filter(pk=person.pk)
    row = with_links(worklist.build_rows(qs, today))[0]
    back = reverse("people:my_people")
    form_html = ""
    if form is not None:
        form_html = render_to_string(
            "people/followup/_card_form.html",
            {"form": form, "links": row.links, "key": row.key, "next": back},
            request,
        )
    return HttpResponse(
        card_html(row, next_q=quote(back, safe="/"), can_write=True, note=note, form=form_html)
    )


def _inline(request: HttpRequest) -> bool:
    """The form was asked from inside a card on "my people" (htmx)."""
    return _is_htmx(request) and bool(request.GET.get("inline") or request.POST.get("inline"))


def _form_page(
    request: HttpRequest, template: str, person: Person, form: forms.Form, **extra: Any
) -> HttpResponse:
    context = {"person": person, "form": form, "next": _next_url(request, person.pk), **extra}
    return render(request, template, context)


# ------------------------------------------------------------------ recording


@require(Perm.RECORD_WRITE)
def test_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = TestForm(
        request.POST or None,
        initial={"tested_on": timezone.localdate(), "method": DrugTest.Method.URINE},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            test = followup.record_test(
                actor=request.user,
                person=person,
                tested_on=data["tested_on"],
                method=data["method"],
                result=data["result"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            note = _("已登记%(name)s %(day)s %(method)s：%(result)s") % {
                "name": person.name,
                "day": f"{test.tested_on:%Y-%m-%d}",
                "method": test.get_method_display(),
                "result": DrugTest.Result(test.result).label,
            }
            if _inline(request):
                return _card(request, person, note=note)
            messages.success(request, note)
            return redirect(_next_url(request, person.pk))
    if _inline(request):
        return _card(request, person, form=form)
    return _form_page(request, "people/followup/test_form.html", person, form)


@require(Perm.RECORD_WRITE)
def visit_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    kind = request.GET.get("kind", "")
    initial = {
        "visited_on": timezone.localdate(),
        "kind": kind if kind in Visit.Kind.values else Visit.Kind.TALK,
    }
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = followup.record_visit(
                actor=request.user,
                person=person,
                kind=data["kind"],
                visited_on=data["visited_on"],
                help_kind=data["help_kind"] if data["kind"] == Visit.Kind.HELP else "",
                summary=data["summary"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已登记%(name)s %(day)s %(kind)s")
                % {
                    "name": person.name,
                    "day": f"{visit.visited_on:%Y-%m-%d}",
                    "kind": visit.get_kind_display(),
                },
            )
            return redirect(_next_url(request, person.pk))
    return _form_page(request, "people/followup/visit_form.html", person, form)


@require(Perm.RECORD_WRITE)
def absence_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = AbsenceForm(request.POST or None, initial={"left_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            absence = followup.record_absence(
                actor=request.user,
                person=person,
                left_on=data["left_on"],
                authorised=data["authorised"],
                destination=data["destination"],
                returned_on=data["returned_on"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not absence.authorised and absence.returned_on is None:
                messages.warning(
                    request,
                    _("已登记%(name)s未经批准离开，已提醒帮教小组和乡镇禁毒专干")
                    % {"name": person.name},
                )
            else:
                messages.success(request, _("已登记%(name)s外出") % {"name": person.name})
            return redirect(_next_url(request, person.pk))
    return _form_page(request, "people/followup/absence_form.html", person, form)


@require(Perm.RECORD_WRITE)
def absence_return(request: HttpRequest, pk: int) -> HttpResponse:
    absence = get_in_scope_or_404(
        Absence.objects.select_related("person", "person__org_unit"), request.user, pk=pk
    )
    person = absence.person
    form = ReturnForm(request.POST or None, initial={"returned_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            followup.record_return(
                actor=request.user, absence=absence, returned_on=form.cleaned_data["returned_on"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记%(name)s返回") % {"name": person.name})
            return redirect(_next_url(request, person.pk))
    return _form_page(request, "people/followup/return_form.html", person, form, absence=absence)


# ------------------------------------------------------------------ one person


def person_followup(person: Person, today: date) -> dict[str, Any]:
    """Everything the follow-up section shows for one person."""
    policy = FollowUpPolicy.current()
    measure = person.measures.order_by("-decision_date", "-id").first()
    tests = list(person.tests.select_related("recorded_by").order_by("-tested_on", "-id"))
    visits = list(person.visits.select_related("recorded_by").order_by("-visited_on", "-id"))
    absences = list(person.absences.order_by("-left_on", "-id"))
    flags = flags_for(person, today=today, policy=policy, measure=measure, absences=absences)
    help_labels = registry.labels(followup.HELP_KINDS) if any(v.help_kind for v in visits) else {}
    schedule = None
    if measure is not None and measure.kind in COMMUNITY_KINDS and is_running(measure, today):
        schedule = _schedule(person, measure, tests, visits, policy, today)
    return {
        "person": person,
        "status": status_on(person, today, policy.abstinence_years),
        "measure": measure,
        "flags": flags,
        "schedule": schedule,
        "breach": _breach_counts(measure, absences, policy, today) if schedule else None,
        "tests": [(t, _result_label(t.result)) for t in tests[:RECENT]],
        "tests_more": max(len(tests) - RECENT, 0),
        "visits": [(v, help_labels.get(v.help_kind, v.help_kind)) for v in visits[:RECENT]],
        "visits_more": max(len(visits) - RECENT, 0),
        "absences": [(a, mask("address", a.destination)) for a in absences[:RECENT]],
        "open_absence": next((a for a in absences if a.returned_on is None), None),
        "today": today,
    }


def _result_label(result: str) -> str:
    # The result is encrypted, so the model field carries no choices to display.
    return str(DrugTest.Result(result).label) if result in DrugTest.Result.values else result


def _schedule(
    person: Person,
    measure: Measure,
    tests: list[DrugTest],
    visits: list[Visit],
    policy: FollowUpPolicy,
    today: date,
) -> dict[str, Any]:
    anchor = measure_anchor(measure)
    until = measure_until(measure) or _default_until(anchor, policy)
    done_tests = [t.tested_on for t in tests if t.result in worklist.COUNTING]
    summaries = [v.visited_on for v in visits if v.kind == Visit.Kind.SUMMARY]
    assessments = [v.visited_on for v in visits if v.kind == Visit.Kind.ASSESSMENT]
    intervals = [int(i) for i in (policy.test_intervals or [1, 2, 3])]
    state = compute(
        anchor=anchor,
        until=until,
        today=today,
        test_dates=done_tests,
        summary_dates=summaries,
        assessment_dates=assessments,
        intervals=intervals,
        summary_every=policy.summary_every_months,
        assessment_every=policy.assessment_every_months,
    )
    cadences = {
        Task.TEST: (Cadence(Task.TEST, anchor, until, tuple(intervals)), done_tests),
        Task.SUMMARY: (
            Cadence(Task.SUMMARY, anchor, until, (policy.summary_every_months,), yearly=False),
            summaries,
        ),
        Task.ASSESSMENT: (
            Cadence(
                Task.ASSESSMENT, anchor, until, (policy.assessment_every_months,), yearly=False
            ),
            assessments,
        ),
    }
    periods = {
        task: history(task=task, periods=cadence.periods(), done=done, today=today)
        for task, (cadence, done) in cadences.items()
    }
    return {
        "anchor": anchor,
        "until": until,
        "year": months_between(anchor, today) // 12 + 1,
        "interval": intervals[min(months_between(anchor, today) // 12, len(intervals) - 1)],
        "state": state,
        "lines": worklist.task_lines(state),
        "periods": [(Task.LABELS[task], records) for task, records in periods.items()],
    }


def _default_until(anchor: date, policy: FollowUpPolicy) -> date:
    return add_months(anchor, policy.detox_term_months)


def _breach_counts(
    measure: Measure, absences: list[Absence], policy: FollowUpPolicy, today: date
) -> list[dict[str, Any]]:
    """How near the person is to each serious-breach threshold."""
    own = [a for a in absences if a.measure_id == measure.pk]
    departures = sum(1 for a in own if not a.authorised)
    away = days_away(own, measure_anchor(measure), today)
    return [
        {"label": _("逃避检测"), "value": measure.evaded_count, "limit": policy.breach_evaded,
         "unit": _("次"), "hit": measure.evaded_count >= policy.breach_evaded},
        {"label": _("拒绝检测"), "value": measure.refused_count, "limit": policy.breach_refused,
         "unit": _("次"), "hit": measure.refused_count >= policy.breach_refused},
        {"label": _("擅自离开"), "value": departures, "limit": policy.breach_departures,
         "unit": _("次"), "hit": departures >= policy.breach_departures},
        {"label": _("擅自离开累计"), "value": away, "limit": policy.breach_days_away,
         "unit": _("天"), "hit": away > policy.breach_days_away},
    ]  # fmt: skip


@require(Perm.PERSONAL_DATA)
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    context = person_followup(person, timezone.localdate())
    context["can_write"] = request.user.has_jindu_perm(Perm.RECORD_WRITE)
    return render(request, "people/followup/person.html", context)


@require(Perm.PERSONAL_DATA)
def person_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The follow-up section of the person's page, loaded into it."""
    person = _person(request, pk)
    context = person_followup(person, timezone.localdate())
    context["can_write"] = request.user.has_jindu_perm(Perm.RECORD_WRITE)
    context["next"] = reverse("people:detail", kwargs={"pk": person.pk})
    return render(request, "people/followup/_panel.html", context)


# ------------------------------------------------------------------ the lists


@require(Perm.PERSONAL_DATA)
def my_people(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = with_links(worklist.my_people(request.user, today))
    show = request.GET.get("show", "")
    summary = worklist.summarise(rows)
    scheduled = [r for r in rows if r.under_community or r.flags.needs_action]
    if show == "overdue":
        scheduled = [r for r in scheduled if r.needs_action]
    elif show == "week":
        scheduled = [r for r in scheduled if r.due_this_week or r.needs_action]
    # The most urgent as cards with buttons; the rest one line each, so that a
    # long list stays quick to load and to scroll on a phone.
    cards, more = scheduled[:CARDS], scheduled[CARDS:]
    others = [] if show else [r for r in rows if not (r.under_community or r.flags.needs_action)]
    back = reverse("people:my_people")
    can_write = request.user.has_jindu_perm(Perm.RECORD_WRITE)
    next_q = quote(back, safe="/")
    for row in cards:
        row.html = card_html(row, next_q=next_q, can_write=can_write)
    for row in more:
        row.html = line_html(row)
    for row in others:
        row.html = other_html(row)
    return render(
        request,
        "people/followup/my_people.html",
        {
            "rows": cards,
            "more": more,
            "others": others,
            "summary": summary,
            "show": show if show in ("overdue", "week") else "",
            "today": today,
            "next": back,
            "can_write": can_write,
        },
    )


@require(Perm.PERSONAL_DATA)
def overdue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = worklist.overdue_rows(request.user, today)
    order = "urgency" if request.GET.get("order") == "urgency" else "village"
    if order == "village":
        rows = worklist.in_village_order(rows)
    # Pages of rows, so that a large township's list costs the same to draw; the
    # counts and the export cover them all.
    page = Paginator(rows, OVERDUE_PAGE).get_page(request.GET.get("page"))
    shown = with_links(list(page.object_list))
    for row in shown:
        row.html = overdue_row_html(row)
    return render(
        request,
        "people/followup/overdue.html",
        {
            "rows": shown,
            "page_obj": page,
            "total": len(rows),
            "groups": worklist.by_village(shown) if order == "village" else None,
            "order": order,
            "today": today,
            "counts": {
                "overdue": sum(1 for r in rows if r.overdue),
                "lost": sum(1 for r in rows if r.flags.lost_contact),
                "absconded": sum(1 for r in rows if r.flags.absconded),
                "breach": sum(1 for r in rows if r.flags.serious_breach),
                "not_reported": sum(1 for r in rows if r.flags.not_reported),
            },
        },
    )


class OverdueExporter(Exporter):
    title = "逾期及需关注人员名单"
    contains_personal_data = True
    columns = (
        Column("村（社区）", 16),
        Column("责任单位", 18),
        Column("姓名", 10),
        Column("性别", 6),
        Column("身份证号", 22),
        Column("措施", 10),
        Column("起算日期", 12),
        Column("逾期事项", 28),
        Column("最早逾期日期", 14),
        Column("下次应办", 20),
        Column("标记", 36),
    )

    def __init__(self, rows: list[worklist.Row], id_numbers: dict[int, str]) -> None:
        self._rows = rows
        self._ids = id_numbers

    def rows(self) -> Any:
        kinds = dict(Measure.Kind.choices)
        for row in self._rows:
            person = row.person
            overdue_lines = [line for line in row.task_lines if line.state == "overdue"]
            next_due = row.state.next_due() if row.state else None
            yield (
                row.village.name if row.village is not None else "",
                person.org_unit.name,
                person.name,
                person.get_sex_display(),
                mask_id_number(self._ids.get(person.pk, "")),
                str(kinds.get(person.measure_kind, person.measure_kind)),
                person.measure_anchor,
                "；".join(f"{line.label}（漏{line.missed}期）" for line in overdue_lines),
                min((line.day for line in overdue_lines if line.day), default=None),
                f"{next_due.label} {next_due.due_on:%Y-%m-%d}前" if next_due else "",
                "；".join(row.flags.labels()),
            )


@require(Perm.PERSONAL_DATA)
def overdue_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    rows = worklist.overdue_rows(user, today)
    ids = dict(
        Person.objects.for_user(user)
        .filter(pk__in=[r.person.pk for r in rows])
        .values_list("pk", "id_number")
    )
    return export_response(
        OverdueExporter(rows, ids),
        actor=user,
        object_type="people.person",
        detail={"list": "overdue", "day": f"{today:%Y-%m-%d}", "masked": True},
    )
