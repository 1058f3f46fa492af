"""Special-check campaigns (专项核对检查) and the follow-up of findings.

A campaign lists the units to check, chosen by filters over the creator's
scope, and records each check; coverage (checked / listed) is counted from the
checks when a page asks (``selectors.coverage``). A finding is assigned to a
user or a department for follow-up and closed with a note.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.notifications.services import notify
from jindu.orgs.models import Department
from jindu.regulation.models import Campaign, CampaignTarget, Finding, RegulationPolicy, UnitCheck
from jindu.regulation.selectors import UnitFilter, units_for
from jindu.regulation.services import is_user

CAMPAIGN_FIELDS = ("name", "starts_on", "ends_on", "description", "criteria")
MAX_TARGETS = 20000


@transaction.atomic
def create_campaign(
    *,
    actor: Any,
    name: str,
    starts_on: date | None,
    ends_on: date | None,
    filters: UnitFilter,
    criteria: dict[str, str] | None = None,
    description: str = "",
) -> Campaign:
    """Open a campaign over the units of the actor's scope that the filters choose."""
    name, description = (name or "").strip(), (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("请填写检查名称")]
    elif len(name) > 100:
        errors["name"] = [_("名称不能超过100个字")]
    if starts_on is None:
        errors["starts_on"] = [_("请填写开始日期")]
    if ends_on is None:
        errors["ends_on"] = [_("请填写结束日期")]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期")]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    policy = RegulationPolicy.current()
    units = list(
        units_for(actor, filters, today, policy.licence_warning_days)
        .filter(closed_on__isnull=True)
        .values_list("pk", "org_unit_id", "org_path")[: MAX_TARGETS + 1]
    )
    if not units:
        raise ValidationError(_("按所选条件没有找到需要检查的单位，请放宽条件"))
    if len(units) > MAX_TARGETS:
        raise ValidationError(_("所选单位超过%(n)d家，请按乡镇或类别分批检查") % {"n": MAX_TARGETS})
    campaign = Campaign(
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        description=description,
        criteria=criteria or {},
        created_by=actor if is_user(actor) else None,
    )
    campaign.set_org_unit(actor.org_unit)
    campaign.save()
    CampaignTarget.objects.bulk_create(
        CampaignTarget(campaign=campaign, unit_id=pk, org_unit_id=org_unit_id, org_path=org_path)
        for pk, org_unit_id, org_path in units
    )
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=campaign,
        after=snapshot(campaign, CAMPAIGN_FIELDS),
        extra={"targets": len(units)},
    )
    return campaign


@transaction.atomic
def record_check(
    *,
    actor: Any,
    target: CampaignTarget,
    checked_on: date | None,
    checkers: str,
    result: str,
    notes: str = "",
) -> UnitCheck:
    """Record one check of a listed unit."""
    checkers, notes = (checkers or "").strip(), (notes or "").strip()
    errors: dict[str, list[str]] = {}
    campaign = target.campaign
    if checked_on is None:
        errors["checked_on"] = [_("请填写检查日期")]
    elif checked_on > timezone.localdate():
        errors["checked_on"] = [_("检查日期不能晚于今天")]
    elif checked_on < campaign.starts_on:
        errors["checked_on"] = [
            _("检查日期早于本次专项检查的开始日期（%(day)s）") % {"day": campaign.starts_on}
        ]
    if not checkers:
        errors["checkers"] = [_("请填写检查人员")]
    elif len(checkers) > 100:
        errors["checkers"] = [_("检查人员不能超过100个字")]
    if not registry.is_valid("check_result", result):
        errors["result"] = [_("请选择检查结果")]
    if errors:
        raise ValidationError(errors)
    check = UnitCheck(
        target=target,
        unit_id=target.unit_id,
        checked_on=checked_on,
        checkers=checkers,
        result=result,
        notes=notes,
        recorded_by=actor if is_user(actor) else None,
        org_unit_id=target.org_unit_id,
        org_path=target.org_path,
    )
    check.save()
    record_change(
        actor=actor,
        action=Action.RECORD_CREATED,
        obj=check,
        after=snapshot(check, ("unit_id", "checked_on", "checkers", "result", "notes")),
        extra={"campaign": campaign.pk},
    )
    return check


# ------------------------------------------------------------------ findings


def assignable_users(actor: Any, finding: Finding) -> list[Any]:
    """Users who could follow a finding up: active, holding a writing role, whose
    scope holds the unit, and (for a department reporter) of its department."""
    from jindu.accounts.models import User
    from jindu.core.paths import ancestor_paths
    from jindu.core.roles import ADMIN_ROLES, Perm, roles_with

    writers = [role.value for role in roles_with(Perm.RECORD_WRITE)]
    users = (
        User.objects.filter(
            is_active=True,
            org_unit__path__in=ancestor_paths(finding.org_path),
            role_grants__role__in=writers,
        )
        .exclude(role_grants__role__in=[r.value for r in ADMIN_ROLES])
        .select_related("org_unit", "department")
        .prefetch_related("role_grants")
        .distinct()
        .order_by("org_unit__path", "full_name")
    )
    result = []
    for user in users:
        # role_codes from the prefetched grants, not one query per user.
        user.role_codes = frozenset(grant.role for grant in user.role_grants.all())
        if not user.scoped_to_department or user.department_id == finding.unit.department_id:
            result.append(user)
    return result


@transaction.atomic
def assign_finding(
    *,
    actor: Any,
    finding: Finding,
    user: Any = None,
    department: Department | None = None,
) -> Finding:
    """Hand a finding to a user or to the unit's responsible department; they are told."""
    finding = Finding.objects.select_for_update().select_related("unit").get(pk=finding.pk)
    if finding.closed_on is not None:
        raise ValidationError(_("该问题已办结"))
    if (user is None) == (department is None):
        raise ValidationError({"assignee": [_("请选择一名跟进人或一个跟进部门")]})
    if user is not None and user.pk not in {u.pk for u in assignable_users(actor, finding)}:
        raise ValidationError({"assignee": [_("该用户不能跟进此单位的问题")]})
    if department is not None and department.pk != finding.unit.department_id:
        raise ValidationError({"assignee": [_("只能交由该单位的监管部门跟进")]})
    before = {
        "assigned_user": finding.assigned_user_id,
        "assigned_department": finding.assigned_department_id,
    }
    finding.assigned_user, finding.assigned_department = user, department
    finding.assigned_at = timezone.now()
    finding.save(update_fields=["assigned_user", "assigned_department", "assigned_at"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=finding,
        before=before,
        after={
            "assigned_user": finding.assigned_user_id,
            "assigned_department": finding.assigned_department_id,
        },
    )
    if user is not None:
        recipients = [user]
    else:
        from jindu.accounts.models import User
        from jindu.core.paths import ancestor_paths

        recipients = list(
            User.objects.filter(
                is_active=True,
                department=department,
                org_unit__path__in=ancestor_paths(finding.org_path),
            )
        )
    from django.urls import reverse

    notify(
        recipients=recipients,
        title=_("请跟进核对问题：%(unit)s %(kind)s")
        % {"unit": finding.unit.name, "kind": finding.get_kind_display()},
        link=reverse("regulation:finding", args=[finding.pk]),
        level="warning",
        source=f"regulation.Finding:{finding.pk}:assigned",
    )
    return finding


@transaction.atomic
def close_finding(
    *, actor: Any, finding: Finding, note: str, closed_on: date | None = None
) -> Finding:
    """Close a finding with what was done (corrected, explained, handed to the police …)."""
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    note = (note or "").strip()
    closed_on = closed_on or timezone.localdate()
    if finding.closed_on is not None:
        raise ValidationError(_("该问题已办结"))
    if not note:
        raise ValidationError({"note": [_("请填写办结说明")]})
    if closed_on > timezone.localdate():
        raise ValidationError({"closed_on": [_("办结日期不能晚于今天")]})
    if closed_on < finding.found_on:
        raise ValidationError({"closed_on": [_("办结日期不能早于发现日期")]})
    finding.closed_on, finding.close_note = closed_on, note
    finding.closed_by = actor if is_user(actor) else None
    finding.save(update_fields=["closed_on", "close_note", "closed_by"])
    record_change(
        actor=actor,
        action=Action.RECORD_UPDATED,
        obj=finding,
        before={"closed_on": None},
        after={"closed_on": closed_on, "close_note": note},
    )
    return finding
