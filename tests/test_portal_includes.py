"""The shared partials other pages reuse: form fields, form errors, pagination, empty state."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory


class _UnitForm(forms.Form):
    name = forms.CharField(label="名称", help_text="如：甲镇")
    level = forms.ChoiceField(label="层级", choices=[("township", "乡镇"), ("village", "村")])
    active = forms.BooleanField(label="启用", required=False)
    kinds = forms.MultipleChoiceField(
        label="类别", choices=[("a", "甲"), ("b", "乙")], widget=forms.CheckboxSelectMultiple
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("整张表单的错误")


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def _field(form, name) -> str:
    return _render(
        '{% include "includes/form_field.html" with field=form.' + name + " %}", form=form
    )


def test_text_field_has_label_help_and_bootstrap_class():
    html = _field(_UnitForm(), "name")
    assert '<label class="form-label" for="id_name">名称' in html
    assert 'class="form-control"' in html
    assert 'aria-describedby="id_name_help"' in html
    assert "如：甲镇" in html


def test_invalid_field_keeps_what_was_typed_and_says_what_is_wrong():
    form = _UnitForm(data={"name": "", "level": "nowhere"})
    form.is_valid()
    name = _field(form, "name")
    assert "form-control is-invalid" in name
    assert 'aria-invalid="true"' in name
    assert "这个字段是必填项" in name or "This field is required" in name
    form = _UnitForm(data={"name": "甲镇<b>", "level": "township"})
    form.is_valid()
    kept = _field(form, "name")
    assert 'value="甲镇&lt;b&gt;"' in kept


def test_select_checkbox_and_choice_lists_get_their_own_styles():
    form = _UnitForm()
    assert 'class="form-select"' in _field(form, "level")
    check = _field(form, "active")
    assert "form-check" in check and 'class="form-check-input"' in check
    assert '<div class="form-label">类别' in _field(form, "kinds")


def test_hidden_field_renders_bare():
    html = _field(_UnitForm(initial={"token": "t1"}), "token").strip()
    assert html.startswith('<input type="hidden"')
    assert "form-label" not in html


def test_form_errors_show_the_whole_form_errors():
    form = _UnitForm(data={"name": "甲镇", "level": "township", "kinds": ["a"], "token": "x"})
    form.is_valid()
    html = _render('{% include "includes/form_errors.html" with form=form %}', form=form)
    assert "整张表单的错误" in html
    assert 'class="alert alert-danger"' in html


def test_form_errors_are_silent_for_a_clean_form():
    html = _render('{% include "includes/form_errors.html" with form=form %}', form=_UnitForm())
    assert html.strip() == ""


def test_pagination_keeps_filters_and_replaces_the_page():
    request = RequestFactory().get("/x/", {"township": "甲镇", "page": "2"})
    page = Paginator(list(range(45)), 10).get_page(2)
    html = _render('{% include "includes/pagination.html" %}', request=request, page_obj=page)
    assert "township=%E7%94%B2%E9%95%87&amp;page=3" in html
    assert "township=%E7%94%B2%E9%95%87&amp;page=1" in html
    assert "2 / 5" in html
    assert "第 11–20 条，共 45 条" in html


def test_pagination_is_absent_for_a_single_page():
    request = RequestFactory().get("/x/")
    page = Paginator(list(range(3)), 10).get_page(1)
    html = _render('{% include "includes/pagination.html" %}', request=request, page_obj=page)
    assert "pagination" not in html


def test_empty_state_shows_message_and_hint():
    html = _render(
        '{% include "includes/empty_state.html" with icon="inbox" message=m hint=h %}',
        m="暂无人员",
        h="可导入",
    )
    assert "bi-inbox" in html and "暂无人员" in html and "可导入" in html


def test_local_url_filter_keeps_only_paths_on_this_site():
    source = "{% load jindu_ui %}[{{ link|local_url }}]"
    assert _render(source, link="/people/1/") == "[/people/1/]"
    for foreign in ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil"):
        assert _render(source, link=foreign) == "[]"
