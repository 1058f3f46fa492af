"""Responsibility letters and key townships: who has signed (units × status), a letter's
page with its actions, its .docx and its signed scan (served only through scoped
views), the templates, and the key townships with their remediation tasks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.orgs.division import Level
from jindu.orgs.models import OrgUnit
from jindu.targets import documents, letters
from jindu.targets.forms import (
    DelistForm,
    IssueForm,
    KeyTownshipForm,
    LetterForm,
    SignForm,
    TaskDoneForm,
    TaskForm,
    TemplateForm,
    YearForm,
    apply_errors,
)
from jindu.targets.models import (
    KeyTownship,
    LetterKind,
    LetterTemplate,
    RemediationTask,
    ResponsibilityLetter,
)
from jindu.targets.views import county_for

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _file(field: Any, content_type: str, name: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("文件不存在")) from exc
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    return response


@require(Perm.DASHBOARD_VIEW)
def letter_table(request: HttpRequest) -> HttpResponse:
    """Townships and departments × their letters' status; the unsigned stand out."""
    user = request.user
    form = YearForm(request.GET or None)
    year = form.chosen_year() if form.is_bound else timezone.localdate().year
    county = county_for(user)
    rows = letters.status_table(user, county, year) if county else []
    ids = {
        (letter.org_unit_id, letter.department_id, letter.kind): letter.pk
        for row in rows
        for letter in row.letters.values()
        if letter is not None
    }
    return render(
        request,
        "targets/letters.html",
        {
            "form": form,
            "year": year,
            "rows": rows,
            "kinds": LetterKind,
            "unsigned": sum(1 for r in rows if r.unsigned),
            "can_manage": user.has_jindu_perm(Perm.TARGETS_MANAGE),
            "has_letters": bool(ids),
        },
    )


@require(Perm.TARGETS_MANAGE)
@require_POST
def letters_draft(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = YearForm(request.POST)
    year = form.chosen_year()
    county = county_for(user)
    if county is None or not county.path.startswith(user.scope_path or "\0"):
        raise Http404
    count = letters.draft_all(actor=user, county=county, year=year)
    messages.success(request, _("已起草%(n)d份责任书") % {"n": count})
    return redirect(f"{reverse('targets:letters')}?year={year}")


def _letter(request: HttpRequest, pk: Any) -> ResponsibilityLetter:
    return get_in_scope_or_404(
        ResponsibilityLetter.objects.select_related("org_unit", "department", "key_township"),
        request.user,
        pk=pk,
    )


@require(Perm.DASHBOARD_VIEW)
def letter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    letter = _letter(request, pk)
    can_manage = user.has_jindu_perm(Perm.TARGETS_MANAGE)
    edit_form = issue_form = sign_form = None
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and action not in ("edit", "issue", "sign"):
        return redirect("targets:letter", pk=letter.pk)
    if letter.status == ResponsibilityLetter.Status.DRAFTED and can_manage:
        edit_form = LetterForm(
            request.POST if action == "edit" else None,
            initial={
                "county_signatory": letter.county_signatory,
                "unit_signatory": letter.unit_signatory,
                "duties": letter.duties,
            },
        )
        issue_form = IssueForm(
            request.POST if action == "issue" else None,
            initial={"issued_on": timezone.localdate()},
        )
    if letter.status == ResponsibilityLetter.Status.ISSUED and letters.may_sign(user, letter):
        sign_form = SignForm(
            request.POST if action == "sign" else None,
            request.FILES if action == "sign" else None,
            initial={"signed_on": timezone.localdate()},
        )
    if action == "edit" and edit_form is not None and edit_form.is_valid():
        data = edit_form.cleaned_data
        try:
            letters.draft_letter(
                actor=user,
                year=letter.year,
                unit=None if letter.department_id else letter.org_unit,
                department=letter.department,
                key_township=letter.key_township,
                duties=data["duties"],
                county_signatory=data["county_signatory"],
                unit_signatory=data["unit_signatory"],
            )
        except ValidationError as exc:
            apply_errors(edit_form, exc)
        else:
            messages.success(request, _("已重新生成责任书"))
            return redirect("targets:letter", pk=letter.pk)
    elif action == "issue" and issue_form is not None and issue_form.is_valid():
        try:
            letters.issue_letter(
                actor=user, letter=letter, issued_on=issue_form.cleaned_data["issued_on"]
            )
        except ValidationError as exc:
            apply_errors(issue_form, exc)
        else:
            messages.success(request, _("已下发"))
            return redirect("targets:letter", pk=letter.pk)
    elif action == "sign" and sign_form is not None and sign_form.is_valid():
        try:
            letters.sign_letter(
                actor=user,
                letter=letter,
                signed_on=sign_form.cleaned_data["signed_on"],
                scan=sign_form.cleaned_data.get("scan"),
            )
        except ValidationError as exc:
            apply_errors(sign_form, exc)
        else:
            messages.success(request, _("已登记签订"))
            return redirect("targets:letter", pk=letter.pk)
    elif action and not (edit_form or issue_form or sign_form):
        raise PermissionDenied(_("该责任书当前不能办理此操作"))
    return render(
        request,
        "targets/letter_detail.html",
        {
            "letter": letter,
            "edit_form": edit_form,
            "issue_form": issue_form,
            "sign_form": sign_form,
            "table": letters.target_table(letter.year, letter.org_unit, letter.department),
        },
    )


@require(Perm.DASHBOARD_VIEW)
@require_GET
def letter_download(request: HttpRequest, pk: int) -> FileResponse:
    letter = _letter(request, pk)
    if not letter.document:
        raise Http404(_("该责任书尚未生成"))
    return _file(letter.document, DOCX_MIME, f"责任书-{letter.year}-{letter.party_name}.docx")


@require(Perm.DASHBOARD_VIEW)
@require_GET
def letter_scan(request: HttpRequest, pk: int) -> FileResponse:
    letter = _letter(request, pk)
    if not letter.scan:
        raise Http404(_("该责任书没有扫描件"))
    extension = letter.scan.name.rsplit(".", 1)[-1]
    return _file(letter.scan, letter.scan_type, f"signed-letter-{letter.pk}.{extension}")


@require(Perm.TARGETS_MANAGE)
def templates(request: HttpRequest) -> HttpResponse:
    user = request.user
    county = county_for(user)
    if county is None:
        raise Http404
    form = TemplateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            letters.upload_template(
                actor=user,
                county=county,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            form.add_error("file", _("请重新选择文件"))
        else:
            messages.success(request, _("已上传模板，此后生成的责任书使用新模板"))
            return redirect("targets:templates")
    current = {
        kind: LetterTemplate.objects.filter(org_unit=county, kind=kind).first()
        for kind in LetterKind.values
    }
    return render(
        request,
        "targets/templates.html",
        {
            "form": form,
            "current": [(LetterKind(k).label, k, t) for k, t in current.items()],
            "fields": documents.TEXT_FIELDS,
            "blocks": documents.BLOCKS,
        },
    )


@require(Perm.TARGETS_MANAGE)
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", LetterKind.STANDARD)
    if kind not in LetterKind.values:
        raise Http404
    county = county_for(request.user)
    if county is None:
        raise Http404
    data = letters.template_bytes(county, kind)
    response = HttpResponse(data, content_type=DOCX_MIME)
    name = "重点整治责任书模板.docx" if kind == LetterKind.KEY_TOWNSHIP else "责任书模板.docx"
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------ key townships


@require(Perm.DASHBOARD_VIEW)
def key_townships(request: HttpRequest) -> HttpResponse:
    user = request.user
    keys = list(
        KeyTownship.objects.for_user(user)
        .select_related("org_unit")
        .prefetch_related("tasks", "letters")
        .order_by("delisted_on", "-listed_on")
    )
    county = county_for(user)
    form = None
    if user.has_jindu_perm(Perm.TARGETS_MANAGE) and county is not None:
        townships = list(
            OrgUnit.objects.for_user(user).filter(parent=county, level=Level.TOWNSHIP, active=True)
        )
        form = KeyTownshipForm(request.POST or None, townships=townships)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            township = next(t for t in townships if t.pk == data["township"])
            try:
                key = letters.list_key_township(
                    actor=user,
                    township=township,
                    listed_on=data["listed_on"],
                    listed_by=data["listed_by"],
                    reason=data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("已列入重点整治名单"))
                return redirect("targets:key_township", pk=key.pk)
    elif request.method == "POST":
        raise PermissionDenied
    today = timezone.localdate()
    rows = [
        {
            "key": k,
            "tasks": len(k.tasks.all()),
            "done": sum(1 for t in k.tasks.all() if t.done_on),
            "late": sum(1 for t in k.tasks.all() if not t.done_on and t.deadline < today),
        }
        for k in keys
    ]
    return render(request, "targets/key_townships.html", {"rows": rows, "form": form})


def _key(request: HttpRequest, pk: Any) -> KeyTownship:
    return get_in_scope_or_404(KeyTownship.objects.select_related("org_unit"), request.user, pk=pk)


@require(Perm.DASHBOARD_VIEW)
def key_township(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    key = _key(request, pk)
    can_manage = user.has_jindu_perm(Perm.TARGETS_MANAGE)
    task_form = TaskForm(request.POST or None) if can_manage and not key.delisted_on else None
    if request.method == "POST":
        if task_form is None:
            raise PermissionDenied
        if task_form.is_valid():
            data = task_form.cleaned_data
            try:
                letters.add_task(
                    actor=user, key=key, task=data["task"], deadline=data["deadline"],
                    note=data["note"],
                )  # fmt: skip
            except ValidationError as exc:
                apply_errors(task_form, exc)
            else:
                messages.success(request, _("已增加整治任务"))
                return redirect("targets:key_township", pk=key.pk)
    today = timezone.localdate()
    tasks = [
        {
            "task": t,
            "late": not t.done_on and t.deadline < today,
            "can_report": letters.may_report_task(user, t),
        }
        for t in key.tasks.all()
    ]
    letter = (
        ResponsibilityLetter.objects.for_user(user)
        .filter(key_township=key)
        .order_by("-year")
        .first()
    )
    return render(
        request,
        "targets/key_township.html",
        {
            "key": key,
            "tasks": tasks,
            "task_form": task_form,
            "delist_form": DelistForm(initial={"delisted_on": today})
            if can_manage and not key.delisted_on
            else None,
            "done_form": TaskDoneForm(initial={"done_on": today}),
            "letter": letter,
            "can_manage": can_manage,
            "year": today.year,
        },
    )


@require(Perm.TARGETS_MANAGE)
@require_POST
def key_delist(request: HttpRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    form = DelistForm(request.POST)
    try:
        letters.delist_key_township(
            actor=request.user,
            key=key,
            delisted_on=form.cleaned_data.get("delisted_on") if form.is_valid() else None,
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已摘帽"))
    return redirect("targets:key_township", pk=key.pk)


@require(Perm.TARGETS_MANAGE)
@require_POST
def key_letter(request: HttpRequest, pk: int) -> HttpResponse:
    key = _key(request, pk)
    year = timezone.localdate().year
    try:
        letter = letters.draft_letter(actor=request.user, year=year, key_township=key)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("targets:key_township", pk=key.pk)
    return redirect("targets:letter", pk=letter.pk)


@require(Perm.RECORD_WRITE)
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_in_scope_or_404(RemediationTask, request.user, pk=pk)
    form = TaskDoneForm(request.POST)
    try:
        letters.complete_task(
            actor=request.user,
            item=item,
            done_on=form.cleaned_data.get("done_on") if form.is_valid() else None,
            note=form.cleaned_data.get("note", "") if form.is_valid() else "",
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已登记完成"))
    return redirect("targets:key_township", pk=item.key_township_id)
