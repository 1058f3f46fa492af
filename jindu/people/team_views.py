"""Pages of the "4+X" help teams: a person's team and risk, adding and ending
memberships, and the list of people whose team is incomplete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jindu.core.access import require
from jindu.core.excel import Column, Exporter, export_response
from jindu.core.masking import mask_phone
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.forms import apply_errors
from jindu.people import risk, teams
from jindu.people.models import Measure, Person, TeamMember
from jindu.people.movement import transfers_for
from jindu.people.rules import team_missing
from jindu.people.status import UNDER_COMMUNITY, status_on

PAGE_SIZE = 50
USER_CHOICES_MAX = 200


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("组内角色"), choices=TeamMember.Role.choices)
    user = forms.TypedChoiceField(
        label=gettext_lazy("平台账号"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy(
            "干部、民警、医生、社工、网格员有平台账号的，选择账号后本人会收到通知"
        ),
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("选择了平台账号的可不填"),
    )
    phone = forms.CharField(
        label=gettext_lazy("联系电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    joined_on = forms.DateField(label=gettext_lazy("加入日期"), required=False, widget=DateInput())

    def __init__(self, *args: Any, users: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("（无平台账号）"))] + user_choices(users)
        self.fields["role"].widget.attrs["data-team-role"] = ""
        self.fields["user"].widget.attrs["data-team-user"] = ""


def user_choices(users: Iterable[Any]) -> list[tuple[int, str]]:
    return [(u.pk, f"{u.full_name}（{u.org_unit.name}）") for u in users]


class EndForm(forms.Form):
    left_on = forms.DateField(label=gettext_lazy("退出日期"), required=False, widget=DateInput())


def _person(request: HttpRequest, pk: int) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("org_unit"), request.user, pk=pk)


# ------------------------------------------------------------------ a person's team


def section_context(user: Any, person: Person, today: date | None = None) -> dict[str, Any]:
    """What ``people/team/_person_section.html`` shows, for a page that renders it inline."""
    today = today or timezone.localdate()
    members = list(person.team.select_related("user").order_by("left_on", "role", "id"))
    for member in members:
        member.masked_phone = mask_phone(member.phone)
    running = [m for m in members if m.left_on is None]
    under_measure = status_on(person, today) in UNDER_COMMUNITY
    scope = user.scope_path
    transfers = list(
        transfers_for(user).filter(person=person).select_related("from_unit", "to_unit")[:20]
    )
    return {
        "person": person,
        "team": {
            "running": running,
            "ended": [m for m in members if m.left_on is not None],
            "missing": team_missing(running) if under_measure else [],
            "under_measure": under_measure,
            "risk": risk.score(person, today),
            "transfers": transfers,
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE)
            and person.org_path.startswith(scope),
            "active": not (person.died_on or person.moved_away_on),
            "end_form": EndForm(initial={"left_on": today}),
        },
    }


@require(Perm.PERSONAL_DATA)
def team(request: HttpRequest, pk: int) -> HttpResponse:
    """The team, risk and hand-overs of one person, as a page (works without scripts)."""
    person = _person(request, pk)
    return render(request, "people/team/team.html", section_context(request.user, person))


@require(Perm.PERSONAL_DATA)
def team_section(request: HttpRequest, pk: int) -> HttpResponse:
    """The same, as a fragment the person's page loads into its team section."""
    person = _person(request, pk)
    return render(request, "people/team/_section_body.html", section_context(request.user, person))


@require(Perm.RECORD_WRITE)
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    person = _person(request, pk)
    query = request.GET.get("q", "").strip()[:50]
    candidates = list(teams.eligible_users(user, person, query)[:USER_CHOICES_MAX])
    if request.headers.get("HX-Request") and "q" in request.GET:
        return render(request, "people/team/_user_options.html", {"users": candidates})
    form = MemberForm(
        request.POST or None,
        users=candidates,
        initial={"joined_on": timezone.localdate()},
    )
    if request.method == "POST":
        # A chosen account outside the first page of choices still validates.
        chosen = request.POST.get("user", "")
        if chosen.isdigit() and int(chosen) not in {u.pk for u in candidates}:
            extra = teams.eligible_users(user, person).filter(pk=int(chosen)).first()
            if extra is not None:
                form.fields["user"].choices += user_choices([extra])
        if form.is_valid():
            data = form.cleaned_data
            account = None
            if data["user"]:
                account = teams.eligible_users(user, person).filter(pk=data["user"]).first()
            try:
                member = teams.add_team_member(
                    actor=user,
                    person=person,
                    role=data["role"],
                    user=account,
                    name=data["name"],
                    phone=data["phone"],
                    joined_on=data["joined_on"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已将%(name)s加入帮教小组（%(role)s）")
                    % {"name": member.name, "role": member.get_role_display()},
                )
                return redirect("people:team", pk=person.pk)
    return render(
        request,
        "people/team/member_form.html",
        {
            "person": person,
            "form": form,
            "query": query,
            "account_roles": " ".join(sorted(teams.ACCOUNT_ROLES)),
        },
    )


@require(Perm.RECORD_WRITE)
@require_POST
def team_end(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_in_scope_or_404(TeamMember.objects.select_related("person"), request.user, pk=pk)
    # The person's scope decides, not the row's copy of it.
    person = _person(request, member.person_id)
    form = EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("退出日期格式不正确"))
    else:
        try:
            teams.end_team_membership(
                actor=request.user, member=member, left_on=form.cleaned_data["left_on"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(name)s已退出帮教小组") % {"name": member.name})
    return redirect("people:team", pk=person.pk)


# ------------------------------------------------------------------ incomplete teams


ROLE_FILTERS = [(r.value, r.label) for r in TeamMember.REQUIRED]
MEASURE_LABELS = dict(Measure.Kind.choices)


def _incomplete(request: HttpRequest, today: date) -> tuple[Any, str]:
    qs = teams.incomplete_teams(request.user, today)
    role = request.GET.get("role", "")
    if role in {r for r, _label in ROLE_FILTERS}:
        qs = qs.exclude(teams.has_role_q(role))
    else:
        role = ""
    return qs.select_related("org_unit").order_by("org_path", "id"), role


def _rows(people: list[Person]) -> list[dict[str, Any]]:
    members = teams.running_members(people)
    return [
        {
            "person": p,
            "members": members[p.pk],
            "missing": team_missing(members[p.pk]),
            "measure_label": MEASURE_LABELS.get(p.measure_kind, p.measure_kind),
        }
        for p in people
    ]


@require(Perm.PERSONAL_DATA)
def teams_incomplete(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    qs, role = _incomplete(request, today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/team/incomplete.html",
        {
            "page_obj": page,
            "rows": _rows(list(page.object_list)),
            "role": role,
            "role_filters": ROLE_FILTERS,
        },
    )


class IncompleteTeamExporter(Exporter):
    title = "帮教小组不齐全人员"
    columns = (
        Column("姓名", 12),
        Column("责任单位", 20),
        Column("措施", 12),
        Column("措施起算日期", 14),
        Column("缺少", 30),
        Column("现有成员", 40),
    )
    contains_personal_data = True

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def rows(self) -> Iterable[Sequence[Any]]:
        chunk: list[Person] = []
        for person in self.qs.iterator(chunk_size=500):
            chunk.append(person)
            if len(chunk) == 500:
                yield from self._chunk(chunk)
                chunk = []
        yield from self._chunk(chunk)

    def _chunk(self, people: list[Person]) -> Iterable[Sequence[Any]]:
        for row in _rows(people):
            p = row["person"]
            yield (
                p.name,
                p.org_unit.name,
                str(row["measure_label"]),
                p.measure_anchor,
                "、".join(row["missing"]),
                "、".join(f"{m.get_role_display()}：{m.name}" for m in row["members"]),
            )


@require(Perm.PERSONAL_DATA)
def teams_incomplete_export(request: HttpRequest) -> HttpResponse:
    qs, role = _incomplete(request, timezone.localdate())
    return export_response(
        IncompleteTeamExporter(qs),
        actor=request.user,
        object_type="people.teammember",
        detail={"missing_role": role} if role else None,
    )
