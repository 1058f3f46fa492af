"""Pages of the register: the list and its searches, a person's page, the person and
measure forms, revealing a masked value, and the Excel export.

Everything shown here is masked; only ``reveal`` and a full export show personal
data in full, and both are audited with the reason given.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from jindu.codes import registry
from jindu.core.access import require
from jindu.core.excel import export_response
from jindu.core.links import keyed_url
from jindu.core.masking import mask
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.models import OrgUnit
from jindu.people import idnumber, selectors, services
from jindu.people.exports import PersonExporter
from jindu.people.forms import (
    EndMeasureForm,
    ExportForm,
    IdSearchForm,
    ListFilterForm,
    MeasureForm,
    PersonForm,
    ReportInForm,
    RevealForm,
    apply_errors,
)
from jindu.people.markup import badges
from jindu.people.models import FollowUpPolicy, Measure, Person
from jindu.people.rules import flags_for
from jindu.people.schedule import COMMUNITY_KINDS
from jindu.people.status import Status, status_on

# More villages and grids than this in the user's subtree and the register form
# asks for a township (or county) first.
UNIT_CHOICES_MAX = 2000
# Badge colours of the statuses in the list (as ``_status.html`` draws them on a
# person's page); a measure running is the default.
STATUS_BADGE = {
    Status.DIED: "text-bg-secondary",
    Status.MOVED_AWAY: "text-bg-secondary",
    Status.ABSTINENT: "text-bg-success",
    Status.NOT_UNDER_MEASURE: "text-bg-light border",
    Status.ISOLATION: "text-bg-dark",
    Status.CUSTODY: "text-bg-dark",
}
# Sections other parts of the register add to a person's page; a missing one is skipped.
SECTIONS = (
    "people/followup/_person_section.html",
    "people/team/_person_section.html",
    "people/movement/_person_section.html",
)


def _person(request: HttpRequest, pk: Any) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("org_unit"), request.user, pk=pk)


def _measure(person: Person, mpk: Any) -> Measure:
    try:
        return get_object_or_404(person.measures, pk=int(mpk))
    except (TypeError, ValueError) as exc:
        raise Http404 from exc


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# ------------------------------------------------------------------ list


def _list_state(request: HttpRequest) -> tuple[ListFilterForm, selectors.PersonFilter]:
    form = ListFilterForm(request.user, request.GET or None)
    if form.is_bound:
        form.is_valid()
    return form, form.to_filter()


def _register_row_html(row: dict[str, Any], years_old: str) -> SafeString:
    """One person's row of the register list. Drawn here rather than by the template,
    as the rows of the worklists are (``followup_views``): fifty rows of a dozen
    values each were a third of the page's time in Django's templates. On a phone the
    secondary columns fold into the name's cell."""
    p = row["person"]
    name, sex, unit = escape(p.name), escape(p.get_sex_display()), escape(p.org_unit.name)
    masked, age = escape(row["masked_id"]), row["age"]
    badge = f'badge {row["status_class"]}">{escape(row["status"].label)}</span>'
    flags = row["flags"]
    folded_flags = (
        f'<div class="d-md-none">{badges(flags, "text-bg-warning text-wrap me-1")}</div>'
        if flags
        else ""
    )
    contact = f"{p.last_contact_on:%Y-%m-%d}" if p.last_contact_on else "—"
    return mark_safe(  # noqa: S308 - every value above is escaped
        "\n      <tr>\n        <td>\n"
        f'          <a class="jd-tap fw-semibold text-nowrap" href="{escape(row["url"])}">'
        f"{name}</a>\n"
        f'          <span class="d-md-none {badge}\n'
        '          <div class="d-md-none small text-body-secondary">'
        f"{sex} · {age}{escape(years_old)} · {unit}</div>\n"
        f'          <div class="d-md-none small font-monospace">{masked}</div>\n'
        f"          {folded_flags}\n"
        "        </td>\n"
        f'        <td class="d-none d-md-table-cell">{sex}</td>\n'
        f'        <td class="d-none d-md-table-cell">{age}</td>\n'
        f'        <td class="d-none d-md-table-cell font-monospace text-nowrap">{masked}</td>\n'
        f'        <td class="d-none d-md-table-cell">{unit}</td>\n'
        f'        <td class="d-none d-md-table-cell"><span class="{badge}</td>\n'
        '        <td class="d-none d-md-table-cell">'
        f"{badges(flags, 'text-bg-warning text-wrap me-1 mb-1')}</td>\n"
        f'        <td class="d-none d-md-table-cell text-nowrap small">{contact}</td>\n'
        "      </tr>"
    )


def _list_page(request: HttpRequest, *, search_form: IdSearchForm | None = None) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    form, filters = _list_state(request)
    policy = FollowUpPolicy.current()
    qs = selectors.filtered(user, filters, today, policy)
    page = selectors.page(
        qs,
        scope=user.scope_path,
        today=today,
        after=selectors.decode_cursor(request.GET.get("after")),
        before=selectors.decode_cursor(request.GET.get("before")),
        size=selectors.PAGE_SIZE,
        confirm=selectors.confirmed_flags(filters),
        policy=policy,
    )
    detail_url = keyed_url("people:detail")
    years_old = _("岁")
    rows = []
    for p in page.rows:
        state = status_on(p, today, policy.abstinence_years)
        row = {
            "person": p,
            "url": detail_url(p.pk),
            "age": idnumber.age_on(p.birth_date, today),
            "masked_id": mask("id_number", p.id_number),
            "status": state,
            "status_class": STATUS_BADGE.get(state, "text-bg-primary"),
            "flags": [*page.flags[p.pk].labels(), *selectors.plain_flags(p, today)],
        }
        row["html"] = _register_row_html(row, years_old)
        rows.append(row)
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(
        request,
        "people/list.html",
        {
            "filter_form": form,
            "filters": filters,
            "unit_options": selectors.unit_options(user, filters.unit),
            "search_form": search_form or IdSearchForm(),
            "export_form": ExportForm(),
            "rows": rows,
            "page": page,
            "filter_query": query.urlencode(),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_reveal": user.has_jindu_perm(Perm.PERSONAL_REVEAL),
            "today": today,
        },
    )


@require(Perm.PERSONAL_DATA)
@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@require(Perm.PERSONAL_DATA)
@require_GET
def list_count(request: HttpRequest) -> HttpResponse:
    """How many people the list's filter matches, capped, fetched after the page."""
    _form, filters = _list_state(request)
    user = request.user
    qs = selectors.filtered(user, filters, timezone.localdate())
    count, capped = selectors.capped_count(qs, scope=user.scope_path)
    return render(
        request,
        "people/_count.html",
        {
            "count": count,
            "capped": capped,
            "cap": selectors.COUNT_CAP,
            "approximate": bool(selectors.confirmed_flags(filters)),
        },
    )


@require(Perm.PERSONAL_DATA)
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """Exact search by ID number, posted so that the number never enters a URL or a log."""
    if request.method != "POST":
        return redirect("people:list")
    form = IdSearchForm(request.POST)
    if form.is_valid():
        person = services.find_by_id_number(request.user, form.cleaned_data["id_number"])
        if person is not None:
            return redirect("people:detail", pk=person.pk)
        form.add_error("id_number", _("您的管辖范围内没有登记该身份证号的人员"))
    return _list_page(request, search_form=form)


# ------------------------------------------------------------------ one person


def _sections() -> list[str]:
    found = []
    for name in SECTIONS:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return found


@require(Perm.PERSONAL_DATA)
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = _person(request, pk)
    today = timezone.localdate()
    policy = FollowUpPolicy.current()
    masked = {
        field: mask(Person.personal_fields[field], getattr(person, field))
        for field, _label in services.REVEALABLE.items()
    }
    identity = [
        {"field": field, "label": label, "masked": masked[field]}
        for field, label in services.REVEALABLE.items()
    ]
    labels = registry.labels("drug_type")
    status = status_on(person, today, policy.abstinence_years)
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "identity": identity,
            "age": idnumber.age_on(person.birth_date, today),
            "status": status,
            "flags": flags_for(person, today=today, policy=policy),
            "plain_flags": selectors.plain_flags(person, today),
            "measures": list(person.measures.order_by("-decision_date", "-id")),
            "ethnicity": registry.label("ethnicity", person.ethnicity),
            "how_found": registry.label("how_found", person.how_found),
            "employment": registry.label("employment_status", person.employment),
            "drug_types": [labels.get(code, code) for code in person.drug_types or []],
            "sections": _sections(),
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "can_reveal": user.has_jindu_perm(Perm.PERSONAL_REVEAL),
            "policy": policy,
            "today": today,
        },
    )


@require(Perm.PERSONAL_REVEAL)
@require_http_methods(["GET", "POST"])
def reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Ask for a reason, then show one masked value in full, once (audited)."""
    person = _person(request, pk)
    if field not in services.REVEALABLE:
        raise Http404
    form = RevealForm(request.POST or None)
    value = None
    if request.method == "POST" and form.is_valid():
        try:
            value = services.reveal(
                actor=request.user, person=person, field=field, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    context = {
        "person": person,
        "field": field,
        "label": services.REVEALABLE[field],
        "masked": mask(Person.personal_fields[field], getattr(person, field)),
        "form": form,
        "value": value,
        "revealed": value is not None,
    }
    template = "people/_reveal.html" if _is_htmx(request) else "people/reveal.html"
    return render(request, template, context)


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number", "phone", "household_address", "current_address")
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    user = request.user
    under = user.org_unit
    if request.GET.get("under"):
        under = get_in_scope_or_404(OrgUnit, user, pk=request.GET["under"])
    candidates = selectors.responsible_units(user, under)
    if candidates[: UNIT_CHOICES_MAX + 1].count() > UNIT_CHOICES_MAX:
        # Too many villages and grids for one list: narrow down to a township first.
        children = OrgUnit.objects.filter(parent=under, active=True).order_by(
            "sort_order", "division_code", "name", "id"
        )
        return render(
            request, "people/person_unit_step.html", {"under": under, "children": children}
        )
    form = PersonForm(user, request.POST or None, under=under)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.register_person(
                actor=user,
                org_unit=data["org_unit"],
                name=data["name"],
                id_number=data["id_number"],
                **form.person_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记“%(name)s”") % {"name": person.name})
            if form.converted_from_15:
                messages.info(
                    request,
                    _("15位旧身份证号已转换为18位：%(masked)s")
                    % {"masked": mask("id_number", person.id_number)},
                )
            return redirect("people:detail", pk=person.pk)
    return render(
        request, "people/person_form.html", {"form": form, "person": None, "under": under}
    )


@require(Perm.RECORD_WRITE)
@sensitive_post_parameters("id_number", "phone", "household_address", "current_address")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = _person(request, pk)
    form = PersonForm(user, request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(actor=user, person=person, **form.person_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            if form.converted_from_15:
                messages.info(request, _("15位旧身份证号已转换为18位"))
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})


# ------------------------------------------------------------------ measures


def _late_report_in(request: HttpRequest, measure: Measure) -> None:
    """Say so when a community measure was reported in after the legal deadline."""
    if measure.kind not in COMMUNITY_KINDS or measure.report_in_date is None:
        return
    days = FollowUpPolicy.current().report_in_days
    deadline = measure.decision_date + timedelta(days=days)
    if measure.report_in_date > deadline:
        messages.warning(
            request,
            _("报到日期晚于决定之日起%(days)d日（应于%(deadline)s前报到），请核实并记录原因")
            % {"days": days, "deadline": f"{deadline:%Y-%m-%d}"},
        )


def _measure_page(
    request: HttpRequest, person: Person, form: Any, *, title: str, measure: Measure | None = None
) -> HttpResponse:
    return render(
        request,
        "people/measure_form.html",
        {"person": person, "form": form, "title": title, "measure": measure},
    )


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def measure_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    form = MeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.add_measure(actor=request.user, person=person, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加%(kind)s") % {"kind": measure.get_kind_display()})
            _late_report_in(request, measure)
            return redirect("people:detail", pk=person.pk)
    return _measure_page(request, person, form, title=_("添加措施"))


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, pk: int, mpk: int) -> HttpResponse:
    person = _person(request, pk)
    measure = _measure(person, mpk)
    initial = {key: getattr(measure, key) for key in services.MEASURE_FIELDS}
    form = MeasureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.update_measure(actor=request.user, measure=measure, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            _late_report_in(request, measure)
            return redirect("people:detail", pk=person.pk)
    return _measure_page(request, person, form, title=_("修改措施"), measure=measure)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def measure_end(request: HttpRequest, pk: int, mpk: int) -> HttpResponse:
    person = _person(request, pk)
    measure = _measure(person, mpk)
    form = EndMeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_measure(actor=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已结束%(kind)s") % {"kind": measure.get_kind_display()})
            return redirect("people:detail", pk=person.pk)
    return _measure_page(request, person, form, title=_("结束措施"), measure=measure)


@require(Perm.RECORD_WRITE)
@require_http_methods(["GET", "POST"])
def measure_report_in(request: HttpRequest, pk: int, mpk: int) -> HttpResponse:
    person = _person(request, pk)
    measure = _measure(person, mpk)
    form = ReportInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.record_report_in(
                actor=request.user, measure=measure, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已记录报到"))
            _late_report_in(request, measure)
            return redirect("people:detail", pk=person.pk)
    return _measure_page(request, person, form, title=_("记录报到"), measure=measure)


# ------------------------------------------------------------------ export


@require(Perm.PERSONAL_DATA)
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """The list's filter as Excel. Masked; in full only when asked for with a reason.

    The filter travels in the query string on both methods; the choice of a full
    export and its reason are posted.
    """
    user = request.user
    today = timezone.localdate()
    _form, filters = _list_state(request)
    full, reason = False, ""
    if request.method == "POST":
        form = ExportForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(reverse("people:list") + _query(request))
        full = form.cleaned_data["full"]
        reason = form.cleaned_data["reason"].strip()
        if full and not user.has_jindu_perm(Perm.PERSONAL_REVEAL):
            messages.error(request, _("您无权导出完整身份证号，请取消勾选后导出"))
            return redirect(reverse("people:list") + _query(request))
    policy = FollowUpPolicy.current()
    exporter = PersonExporter(
        selectors.filtered(user, filters, today, policy),
        scope=user.scope_path,
        today=today,
        full=full,
        confirm=selectors.confirmed_flags(filters),
        abstinence_years=policy.abstinence_years,
    )
    detail: dict[str, Any] = {"filter": filters.describe(), "full": full}
    if full:
        detail["reason"] = reason[:200]
    return export_response(exporter, actor=user, object_type="people.person", detail=detail)


def _query(request: HttpRequest) -> str:
    encoded = request.GET.urlencode()
    return f"?{encoded}" if encoded else ""
