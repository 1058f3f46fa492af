"""Small template helpers shared by every app's templates (``{% load jindu_ui %}``)."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.http import QueryDict
from django.utils.safestring import SafeString

register = template.Library()


def widget_kind(bound_field: forms.BoundField) -> str:
    """How Bootstrap wants the widget styled: check, choices, select, range or control."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return "check"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.Select):
        return "select"
    if getattr(widget, "input_type", "") == "range":
        return "range"
    return "control"


register.filter("widget_kind", widget_kind)

_CLASS_OF_KIND = {
    "check": "form-check-input",
    "choices": "",
    "select": "form-select",
    "range": "form-range",
    "control": "form-control",
}


@register.filter
def bootstrap_widget(bound_field: forms.BoundField) -> SafeString:
    """The field's widget with Bootstrap's classes, marked invalid when it has errors."""
    kind = widget_kind(bound_field)
    classes = [bound_field.field.widget.attrs.get("class", ""), _CLASS_OF_KIND[kind]]
    if bound_field.errors:
        classes.append("is-invalid")
    attrs: dict[str, Any] = {"class": " ".join(c for c in classes if c)}
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_help")
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}_errors")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with ``changes`` applied, e.g. ``{% query_with page=2 %}``.

    Filters survive paging this way; a change to None drops the parameter.
    """
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def local_url(value: str) -> str:
    """``value`` if it is a path on this site, else empty: a stored link never leaves the site."""
    value = (value or "").strip()
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""
