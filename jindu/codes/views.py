"""Code-list pages: every signed-in user reads the lists; the system administrator
keeps them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jindu.codes import services
from jindu.codes.forms import CodeItemForm, CodeListForm
from jindu.codes.models import CodeItem, CodeList
from jindu.core.access import require, signed_in
from jindu.core.roles import Perm
from jindu.orgs.forms import apply_errors


@signed_in
def code_lists(request: HttpRequest) -> HttpResponse:
    lists = CodeList.objects.annotate(
        active_count=Count("items", filter=Q(items__active=True)),
        retired_count=Count("items", filter=Q(items__active=False)),
    ).order_by("name")
    return render(
        request,
        "codes/lists.html",
        {
            "lists": lists,
            "can_manage": request.user.has_jindu_perm(Perm.CODES_MANAGE),
        },
    )


def _list_page(
    request: HttpRequest, code_list: CodeList, form: CodeItemForm | None = None, status: int = 200
) -> HttpResponse:
    can_manage = request.user.has_jindu_perm(Perm.CODES_MANAGE)
    return render(
        request,
        "codes/list_detail.html",
        {
            "code_list": code_list,
            "items": code_list.items.order_by("-active", "sort_order", "code"),
            "can_manage": can_manage,
            "form": form or (CodeItemForm() if can_manage else None),
        },
        status=status,
    )


@signed_in
def code_list_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _list_page(request, get_object_or_404(CodeList, key=key))


@require(Perm.CODES_MANAGE)
def code_list_add(request: HttpRequest) -> HttpResponse:
    form = CodeListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code_list = services.create_code_list(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("已新建字典“%(name)s”，请添加字典项") % {"name": code_list.name}
            )
            return redirect("codes:list", key=code_list.key)
    return render(request, "codes/list_form.html", {"form": form, "code_list": None})


@require(Perm.CODES_MANAGE)
def code_list_edit(request: HttpRequest, key: str) -> HttpResponse:
    code_list = get_object_or_404(CodeList, key=key)
    form = CodeListForm(
        request.POST or None,
        editing=True,
        initial={"name": code_list.name, "description": code_list.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_code_list(actor=request.user, code_list=code_list, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("codes:list", key=code_list.key)
    return render(request, "codes/list_form.html", {"form": form, "code_list": code_list})


@require(Perm.CODES_MANAGE)
@require_POST
def item_add(request: HttpRequest, key: str) -> HttpResponse:
    code_list = get_object_or_404(CodeList, key=key)
    form = CodeItemForm(request.POST)
    if form.is_valid():
        try:
            item = services.add_code_item(
                actor=request.user, code_list=code_list, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已添加“%(label)s”") % {"label": item.label})
            return redirect("codes:list", key=code_list.key)
    # The list page again, with the typed entry and what is wrong with it.
    return _list_page(request, code_list, form, status=400)


def _item(key: str, code: str) -> CodeItem:
    return get_object_or_404(
        CodeItem.objects.select_related("code_list"), code_list__key=key, code=code
    )


@require(Perm.CODES_MANAGE)
def item_edit(request: HttpRequest, key: str, code: str) -> HttpResponse:
    item = _item(key, code)
    form = CodeItemForm(
        request.POST or None,
        editing=True,
        initial={"label": item.label, "sort_order": item.sort_order},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_code_item(
                actor=request.user, item=item, label=data["label"], sort_order=data["sort_order"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("codes:list", key=key)
    return render(request, "codes/item_form.html", {"form": form, "item": item})


def _set_active(request: HttpRequest, key: str, code: str, active: bool) -> HttpResponse:
    item = _item(key, code)
    try:
        services.update_code_item(actor=request.user, item=item, active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            (_("已恢复“%(label)s”") if active else _("已停用“%(label)s”")) % {"label": item.label},
        )
    return redirect("codes:list", key=key)


@require(Perm.CODES_MANAGE)
@require_POST
def item_retire(request: HttpRequest, key: str, code: str) -> HttpResponse:
    return _set_active(request, key, code, False)


@require(Perm.CODES_MANAGE)
@require_POST
def item_restore(request: HttpRequest, key: str, code: str) -> HttpResponse:
    return _set_active(request, key, code, True)
