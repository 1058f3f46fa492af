"""Org-subtree scoping: the one door through which every query on scoped data passes.

Every list, detail, search, count, chart, export and API response starts from
``Model.objects.for_user(user)``; single objects come through
``get_in_scope_or_404``. A record outside the user's scope answers 404, as if it
did not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models
from django.http import Http404

from jindu.core.paths import OrgPathField, path_index  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from jindu.accounts.models import User

M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows carry an org path (``org_path`` unless the model says otherwise)."""

    def within(self, path: str) -> Self:
        field = getattr(self.model, "scope_path_field", "org_path")
        return self.filter(**{f"{field}__subtree": path})

    def for_user(self, user: User | Any) -> Self:
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if getattr(self.model, "personal_data", False) and user.is_administrator:
            # Administrators see no personal data, whatever their unit.
            return self.none()
        scope_path = user.scope_path
        if not scope_path:
            return self.none()
        qs = self.within(scope_path)
        dept_field = getattr(self.model, "scope_department_field", None)
        if user.scoped_to_department:
            if dept_field:
                qs = qs.filter(**{dept_field: user.department_id})
            elif getattr(self.model, "personal_data", False):
                # A department reporter sees their department's records only; personal
                # data that belongs to no department is none of theirs.
                return self.none()
        return qs


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):  # type: ignore[misc]
    pass


class ScopedModel(models.Model):
    """A record that belongs to the smallest org unit it happened in.

    ``org_path`` is copied from the unit when the record is written (and
    rewritten when the unit moves), so that scoping, partitioning and sharding
    by county need no join.
    """

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name="所属单位"
    )
    org_path = OrgPathField(editable=False)

    objects = ScopedManager()

    scope_department_field: str | None = None
    personal_data = False

    class Meta:
        abstract = True

    def set_org_unit(self, unit: Any) -> None:
        self.org_unit = unit
        self.org_path = unit.path


def scoped_models() -> list[type[models.Model]]:
    """Every concrete model that carries an org path, so that a unit move can rewrite them."""
    from django.apps import apps

    return [
        m
        for m in apps.get_models()
        if issubclass(m, ScopedModel) and not m._meta.abstract and not m._meta.proxy
    ]


# A unit's own path is rewritten by the move itself, before the columns that copy it.
_OWN_PATH = ("orgs.orgunit", "path")


def path_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) holding a copied org path, which a unit move must rewrite.

    Any ``OrgPathField`` counts, not only ``ScopedModel.org_path``: a record may
    carry several (a transfer's two ends). A model that must keep paths as they
    were when written (the audit log, which is evidence) says
    ``org_path_frozen = True``.
    """
    from django.apps import apps

    columns = []
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        if getattr(model, "org_path_frozen", False):
            continue
        for field in model._meta.concrete_fields:
            if (model._meta.label_lower, field.name) == _OWN_PATH:
                continue
            if isinstance(field, OrgPathField):
                columns.append((model, field.name))
    return columns


def get_in_scope_or_404(model_or_qs: type[M] | models.QuerySet, user: Any, **lookup: Any) -> M:
    """Fetch one object inside the user's scope, or answer 404 as if it did not exist."""
    qs = model_or_qs.objects.all() if isinstance(model_or_qs, type) else model_or_qs
    try:
        return qs.for_user(user).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("不存在或无权访问") from exc
