"""Pages of movement: handing a person over to another unit, the hand-overs both
sides see, death and moving away, and outflow (外流吸毒/贩毒)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core.access import require
from jindu.core.excel import Column, Exporter, export_response
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.division import Level
from jindu.orgs.forms import apply_errors
from jindu.orgs.models import OrgUnit
from jindu.people import movement, services
from jindu.people.idnumber import IdNumberError, parse
from jindu.people.models import Outflow, Person
from jindu.people.team_views import DateInput
from jindu.people.teams import township_path

PAGE_SIZE = 50
CANDIDATES_MAX = 30
OUTFLOW_YEARS = 3


def _person(request: HttpRequest, pk: int) -> Person:
    return get_in_scope_or_404(Person.objects.select_related("org_unit"), request.user, pk=pk)


def unit_labels(units: Iterable[OrgUnit]) -> dict[int, str]:
    """Each unit's name with the units above it (below the root), in one query."""
    units = list(units)
    ids = {int(part) for u in units for part in u.path.strip("/").split("/") if part}
    names = dict(OrgUnit.objects.filter(pk__in=ids, parent__isnull=False).values_list("pk", "name"))
    return {
        u.pk: " / ".join(
            names[int(part)] for part in u.path.strip("/").split("/") if int(part) in names
        )
        or u.name
        for u in units
    }


# ------------------------------------------------------------------ transfer


class TransferForm(forms.Form):
    to_unit = forms.IntegerField(label=gettext_lazy("接收单位"), required=False)
    transferred_on = forms.DateField(label=gettext_lazy("移交日期"), widget=DateInput())
    reason = forms.CharField(
        label=gettext_lazy("移交原因"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("如：现居住地变更至接收单位辖区"),
    )


def transfer_candidates(person: Person, query: str) -> list[OrgUnit]:
    """Villages and grids a person may be handed to: the person's own township by
    default, anywhere in the installation when searched for."""
    qs = OrgUnit.objects.filter(level__in=services.RESPONSIBLE_LEVELS, active=True).exclude(
        pk=person.org_unit_id
    )
    if query:
        qs = qs.filter(Q(name__contains=query) | Q(division_code__startswith=query))
    else:
        qs = qs.within(township_path(person))
    return list(qs.order_by("path")[:CANDIDATES_MAX])


@require(Perm.RECORD_WRITE)
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person(request, pk)
    query = request.GET.get("q", "").strip()[:50]
    form = TransferForm(request.POST or None, initial={"transferred_on": timezone.localdate()})
    chosen = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = OrgUnit.objects.filter(pk=data["to_unit"]).first() if data.get("to_unit") else None
        if chosen is None:
            form.add_error("to_unit", _("请选择接收单位"))
        else:
            try:
                movement.transfer_person(
                    actor=request.user,
                    person=person,
                    to_unit=chosen,
                    transferred_on=data["transferred_on"],
                    reason=data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已将%(name)s移交至%(unit)s") % {"name": person.name, "unit": chosen.name},
                )
                # The person may now be outside the sender's scope: the hand-overs list
                # is the page both sides can open.
                return redirect("people:transfers")
    candidates = transfer_candidates(person, query)
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    labels = unit_labels(candidates)
    return render(
        request,
        "people/movement/transfer_form.html",
        {
            "person": person,
            "form": form,
            "query": query,
            "candidates": [(u, labels[u.pk]) for u in candidates],
            "chosen_id": chosen.pk if chosen else None,
        },
    )


@require(Perm.PERSONAL_DATA)
def transfer_list(request: HttpRequest) -> HttpResponse:
    """Hand-overs leaving from or arriving in the user's scope."""
    user = request.user
    scope = user.scope_path
    qs = movement.transfers_for(user).select_related("person", "from_unit", "to_unit", "by")
    direction = request.GET.get("direction", "")
    if direction == "in":
        qs = qs.filter(to_path__subtree=scope).exclude(from_path__subtree=scope)
    elif direction == "out":
        qs = qs.filter(from_path__subtree=scope).exclude(to_path__subtree=scope)
    else:
        direction = ""
    page = Paginator(qs.order_by("-transferred_on", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = []
    for t in page.object_list:
        inside_from = t.from_path.startswith(scope)
        inside_to = t.to_path.startswith(scope)
        rows.append(
            {
                "transfer": t,
                "direction": "internal"
                if inside_from and inside_to
                else ("out" if inside_from else "in"),
                "linkable": t.person.org_path.startswith(scope),
            }
        )
    return render(
        request,
        "people/movement/transfer_list.html",
        {"page_obj": page, "rows": rows, "direction": direction},
    )


# ------------------------------------------------------------------ death, moving away


class ExitForm(forms.Form):
    day = forms.DateField(widget=DateInput())

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].label = label


EXITS = {
    "death": {
        "service": movement.record_death,
        "argument": "died_on",
        "label": gettext_lazy("死亡日期"),
        "title": gettext_lazy("登记死亡"),
        "explain": gettext_lazy(
            "正在执行的措施将以“死亡”结束，帮教小组成员同日退出。此后该人员不再列入管控名单，历史记录保留。"
        ),
        "done": gettext_lazy("已登记%(name)s死亡"),
    },
    "moved_away": {
        "service": movement.record_moved_away,
        "argument": "moved_on",
        "label": gettext_lazy("迁出日期"),
        "title": gettext_lazy("登记迁出本县"),
        "explain": gettext_lazy(
            "正在执行的社区戒毒、社区康复将以“转出本县执行”结束，帮教小组成员同日退出；"
            "请同时向迁入地通报。在本县内更换责任单位请用“移交”。"
        ),
        "done": gettext_lazy("已登记%(name)s迁出本县"),
    },
}
_EXIT_FIELDS = {"died_on", "moved_away_on"}


def _exit(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    spec = EXITS[kind]
    person = _person(request, pk)
    form = ExitForm(
        request.POST or None, label=str(spec["label"]), initial={"day": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            spec["service"](
                actor=request.user, person=person, **{spec["argument"]: form.cleaned_data["day"]}
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error("day" if field in _EXIT_FIELDS else None, message)
            else:
                apply_errors(form, exc)
        else:
            messages.success(request, str(spec["done"]) % {"name": person.name})
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "people/movement/exit_form.html",
        {"person": person, "form": form, "spec": spec},
    )


@require(Perm.RECORD_WRITE)
def record_death(request: HttpRequest, pk: int) -> HttpResponse:
    return _exit(request, pk, "death")


@require(Perm.RECORD_WRITE)
def record_moved_away(request: HttpRequest, pk: int) -> HttpResponse:
    return _exit(request, pk, "moved_away")


# ------------------------------------------------------------------ outflow


class OutflowForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"), choices=Outflow.Kind.choices, widget=forms.RadioSelect
    )
    caught_on = forms.DateField(label=gettext_lazy("查获日期"), widget=DateInput())
    place = forms.CharField(
        label=gettext_lazy("查获地"),
        max_length=100,
        help_text=gettext_lazy("外县（市、区）名称，如：某省某市某区"),
    )
    caught_by = forms.CharField(label=gettext_lazy("查获机关"), max_length=100, required=False)
    id_number = forms.CharField(
        label=gettext_lazy("身份证号"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("已登记的吸毒人员输入身份证号即可关联，姓名和所属单位自动带出"),
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("未登记人员必填"),
    )
    org_unit = forms.TypedChoiceField(
        label=gettext_lazy("所属单位（户籍地）"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("未登记人员必填"),
    )
    notes = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)

    def __init__(self, *args: Any, units: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].choices = [("", "—"), *units]

    def clean_id_number(self) -> str:
        raw = self.cleaned_data.get("id_number", "").strip()
        if not raw:
            return ""
        try:
            return parse(raw).value
        except IdNumberError as exc:
            raise ValidationError(str(exc)) from exc


def _outflow_units(user: Any) -> list[tuple[int, str]]:
    units = list(
        OrgUnit.objects.for_user(user)
        .filter(level__in=(Level.TOWNSHIP, Level.VILLAGE), active=True)
        .order_by("path")
    )
    labels = unit_labels(units)
    return [(u.pk, labels[u.pk]) for u in units]


@require(Perm.RECORD_WRITE)
def outflow_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = _outflow_units(user)
    default_unit = user.org_unit_id if user.org_unit_id in {pk for pk, _label in units} else None
    form = OutflowForm(
        request.POST or None,
        units=units,
        initial={"caught_on": timezone.localdate(), "org_unit": default_unit},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = None
        if data["id_number"]:
            person = services.find_by_id_number(user, data["id_number"])
            if person is None and not data["name"]:
                form.add_error(
                    "id_number",
                    _("辖区内未找到该身份证号的登记人员；如系未登记人员，请填写姓名和所属单位"),
                )
        if not form.errors:
            unit = OrgUnit.objects.filter(pk=data["org_unit"]).first() if data["org_unit"] else None
            try:
                outflow = movement.record_outflow(
                    actor=user,
                    kind=data["kind"],
                    caught_on=data["caught_on"],
                    place=data["place"],
                    caught_by=data["caught_by"],
                    notes=data["notes"],
                    person=person,
                    name=data["name"],
                    org_unit=unit,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已登记%(name)s（%(kind)s）")
                    % {"name": outflow.name, "kind": outflow.get_kind_display()},
                )
                return redirect("people:outflow_list")
    return render(request, "people/movement/outflow_form.html", {"form": form})


def _outflows(request: HttpRequest) -> tuple[Any, dict[str, Any]]:
    qs = Outflow.objects.for_user(request.user).select_related("org_unit", "person")
    filters: dict[str, Any] = {}
    year = request.GET.get("year", "")
    if year.isdigit() and 1900 < int(year) < 3000:
        filters["year"] = int(year)
        qs = qs.filter(
            caught_on__gte=date(int(year), 1, 1), caught_on__lt=date(int(year) + 1, 1, 1)
        )
    kind = request.GET.get("kind", "")
    if kind in Outflow.Kind.values:
        filters["kind"] = kind
        qs = qs.filter(kind=kind)
    return qs.order_by("-caught_on", "-id"), filters


@require(Perm.PERSONAL_DATA)
def outflow_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    qs, filters = _outflows(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    scope = user.scope_path
    rows = [
        {"outflow": o, "linkable": o.person is not None and o.person.org_path.startswith(scope)}
        for o in page.object_list
    ]
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year - OUTFLOW_YEARS, -1))
    return render(
        request,
        "people/movement/outflow_list.html",
        {
            "page_obj": page,
            "filters": filters,
            "kinds": Outflow.Kind.choices,
            "years": years,
            "rows": rows,
            "can_write": user.has_jindu_perm(Perm.RECORD_WRITE),
            "counts": [(y, movement.outflow_counts(scope, y)) for y in years],
        },
    )


class OutflowExporter(Exporter):
    title = "外流吸毒贩毒人员"
    columns = (
        Column("姓名", 12),
        Column("类型", 10),
        Column("查获日期", 12),
        Column("查获地", 24),
        Column("查获机关", 20),
        Column("所属单位", 20),
        Column("已登记", 8),
        Column("备注", 30),
    )
    contains_personal_data = True

    def __init__(self, qs: Any) -> None:
        self.qs = qs

    def rows(self) -> Iterable[Sequence[Any]]:
        for o in self.qs.iterator(chunk_size=1000):
            yield (
                o.name,
                o.get_kind_display(),
                o.caught_on,
                o.place,
                o.caught_by,
                o.org_unit.name,
                o.person_id is not None,
                o.notes,
            )


@require(Perm.PERSONAL_DATA)
def outflow_export(request: HttpRequest) -> HttpResponse:
    qs, filters = _outflows(request)
    return export_response(
        OutflowExporter(qs), actor=request.user, object_type="people.outflow", detail=filters
    )
