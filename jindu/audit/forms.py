"""Searching the audit log: the filter form the page, the export and the command share."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.audit.actions import Action, Result


def parse_bound(raw: str, *, end: bool) -> datetime | None:
    """A typed date or date-time as an aware instant; ``None`` when unreadable.

    An end bound is inclusive of what was typed: a date means the whole day, a
    time to the minute the whole minute, so the caller compares with ``<``.
    """
    raw = (raw or "").strip().replace(" ", "T", 1)
    if not raw:
        return None
    try:
        day = parse_date(raw) if len(raw) == 10 else None
        moment = datetime.combine(day, time.min) if day else parse_datetime(raw)
    except ValueError:  # well-formed but impossible, such as month 13
        return None
    if moment is None:
        return None
    if day:
        step = timedelta(days=1)
    else:
        step = timedelta(minutes=1) if raw.count(":") == 1 else timedelta(seconds=1)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment + step if end else moment


class BoundField(forms.CharField):
    """A date-time box that keeps exactly what was typed when it cannot be read."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def __init__(self, *, end: bool, **kwargs: Any) -> None:
        self.end = end
        super().__init__(required=False, max_length=32, **kwargs)

    def clean(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        moment = parse_bound(text, end=self.end)
        if moment is None:
            raise forms.ValidationError(_("时间格式不正确，请按“2026-06-26 09:30”填写"))
        return moment


def object_type_choices() -> list[tuple[str, str]]:
    """Every kind of record the log can name, for the object-type suggestions."""
    return sorted(
        (model._meta.label_lower, str(model._meta.verbose_name)) for model in apps.get_models()
    )


class AuditFilterForm(forms.Form):
    start = BoundField(end=False, label=gettext_lazy("起始时间"))
    end = BoundField(end=True, label=gettext_lazy("截止时间"))
    username = forms.CharField(label=gettext_lazy("用户名"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=gettext_lazy("操作"),
        required=False,
        choices=[("", gettext_lazy("全部操作")), *Action.choices],
    )
    result = forms.ChoiceField(
        label=gettext_lazy("结果"),
        required=False,
        choices=[("", gettext_lazy("全部结果")), *Result.choices],
    )
    client_address = forms.CharField(
        label=gettext_lazy("客户端地址"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("可只填开头部分，如 10.12."),
    )
    object_type = forms.CharField(
        label=gettext_lazy("对象类型"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"list": "audit-object-types"}),
    )
    object_id = forms.CharField(label=gettext_lazy("对象ID"), required=False, max_length=64)
    text = forms.CharField(label=gettext_lazy("对象名称包含"), required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start >= end:
            self.add_error("end", _("截止时间不能早于起始时间"))
        for name in ("username", "client_address", "object_type", "object_id", "text"):
            if isinstance(data.get(name), str):
                data[name] = data[name].strip()
        return data

    def filters(self) -> dict[str, str]:
        """The filters applied, as typed: for the audit row and the export form."""
        return {
            name: self.data.get(name, "").strip()
            for name in self.fields
            if self.cleaned_data.get(name) not in (None, "")
        }

    def apply(self, queryset: models.QuerySet) -> models.QuerySet:
        data = self.cleaned_data
        if data.get("start"):
            queryset = queryset.filter(at__gte=data["start"])
        if data.get("end"):
            queryset = queryset.filter(at__lt=data["end"])
        exact = {
            "username": "username",
            "action": "action",
            "result": "result",
            "object_type": "object_type",
            "object_id": "object_id",
        }
        for name, lookup in exact.items():
            if data.get(name):
                queryset = queryset.filter(**{lookup: data[name]})
        if data.get("client_address"):
            queryset = queryset.filter(client_address__startswith=data["client_address"])
        if data.get("text"):
            queryset = queryset.filter(object_repr__icontains=data["text"])
        return queryset
