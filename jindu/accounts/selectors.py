"""Reads for the administrators' pages: accounts and live sessions inside their subtree."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from jindu.accounts.forms import AccountFilterForm
from jindu.accounts.models import SecurityPolicy, User, UserSession
from jindu.accounts.sessions import live_sessions
from jindu.core.roles import Role

PAGE_SIZE = 50


def _with_role_labels(users: list[User]) -> list[User]:
    for user in users:
        codes = {grant.role for grant in user.role_grants.all()}
        user.role_list = [role.label for role in Role if role.value in codes]
    return users


def account_page(admin: User, params: Any) -> tuple[AccountFilterForm, Page]:
    """The accounts an administrator manages, filtered and paged, roles read in one query."""
    form = AccountFilterForm(admin, params or None)
    qs: QuerySet[User] = User.objects.for_user(admin).select_related("org_unit", "department")
    if form.is_valid():
        q = form.cleaned_data.get("q", "").strip()
        if q:
            # Lower() rather than icontains: SQLite runs with case-sensitive LIKE here.
            qs = qs.annotate(lower_name=Lower("username")).filter(
                Q(lower_name__contains=q.lower()) | Q(full_name__contains=q)
            )
        unit = form.cleaned_data.get("unit")
        if unit is not None:
            qs = qs.filter(org_unit__path__subtree=unit.path)
        status = form.cleaned_data.get("status")
        if status:
            qs = qs.filter(is_active=status == "active")
    qs = qs.prefetch_related("role_grants").order_by("org_unit__path", "username")
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    page.object_list = list(page.object_list)
    _with_role_labels(page.object_list)
    return form, page


def sessions_in_scope(admin: User) -> QuerySet[UserSession]:
    """Who is signed in now, among the accounts inside the administrator's subtree."""
    if not admin.scope_path:
        return UserSession.objects.none()
    return live_sessions(SecurityPolicy.current().session_idle_minutes).filter(
        user__org_unit__path__subtree=admin.scope_path
    )
