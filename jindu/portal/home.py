"""What each role sees first, built only from what the platform holds today.

Each role maps to one kind of section; roles that share a kind (the county office
and a leader both read the county overview) share one section. A user with
several roles sees each kind once, in the order of ``Role``. Every count goes
through ``for_user`` so that a home page never shows more than the user's scope.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jindu.core.roles import ADMIN_ROLES, Role
from jindu.orgs.division import Level

# Which section a role opens with. Grid workers get their own phone-first
# section: their notifications come before their unit.
SECTION_OF_ROLE: dict[Role, str] = {
    Role.COUNTY_OFFICE: "overview",
    Role.LEADER: "overview",
    Role.TOWNSHIP_MANAGER: "unit",
    Role.POLICE: "unit",
    Role.GRID_WORKER: "grid",
    Role.DEPT_REPORTER: "department",
    Role.SYS_ADMIN: "sys_admin",
    Role.SEC_ADMIN: "sec_admin",
    Role.AUDIT_ADMIN: "audit_admin",
}

# Field roles whose home shows the people they follow up, most urgent first.
MY_PEOPLE_ROLES = frozenset({Role.GRID_WORKER, Role.TOWNSHIP_MANAGER, Role.POLICE})

RECENT_NOTIFICATIONS = 5
RECENT_SESSIONS = 10
RECENT_DENIALS = 5


def home_context(user: Any, nav: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Sections for each of the user's roles; none at all for a user with no role."""
    roles = user.roles()
    kinds: dict[str, list[Role]] = {}
    for role in roles:
        kinds.setdefault(SECTION_OF_ROLE[role], []).append(role)
    sections = []
    for kind, kind_roles in kinds.items():
        data = BUILDERS[kind](user)
        data.update(kind=kind, template=f"portal/sections/{kind}.html")
        data["role_labels"] = "、".join(role.label for role in kind_roles)
        sections.append(data)
    everyday = [role for role in roles if role not in ADMIN_ROLES]
    context: dict[str, Any] = {
        "roles": roles,
        "sections": sections,
        "previous_login": _previous_login(user) if roles else None,
    }
    if everyday:
        context["notifications"] = _notifications(user)
        # Grid workers open the platform on a phone to see what is asked of them.
        context["notifications_first"] = Role.GRID_WORKER in everyday
        if MY_PEOPLE_ROLES.intersection(everyday):
            context["my_people"] = _my_people(user)
        context["work_areas"] = [area for area in nav or [] if area["open"]]
        context["pending_areas"] = [area for area in nav or [] if not area["open"]]
    return context


# ---------------------------------------------------------------- shared pieces


def _scope_units(user: Any) -> QuerySet:
    from jindu.orgs.models import OrgUnit

    return OrgUnit.objects.for_user(user).filter(active=True)


def _level_counts(units: QuerySet) -> dict[str, int]:
    return dict(units.values_list("level").annotate(n=Count("id")).order_by())


def _scope_users(user: Any) -> QuerySet:
    from jindu.accounts.models import User
    from jindu.orgs.models import OrgUnit

    return User.objects.filter(org_unit__in=OrgUnit.objects.for_user(user))


def _previous_login(user: Any) -> Any:
    """The sign-in before this one, so that a user notices one they did not make."""
    from jindu.accounts.models import LoginAttempt

    logins = LoginAttempt.objects.filter(user=user, success=True).order_by("-at")
    return next(iter(logins[1:2]), None)


def _notifications(user: Any) -> dict[str, Any]:
    from jindu.notifications.services import unread_count
    from jindu.notifications.views import own_notifications

    recent = list(own_notifications(user)[:RECENT_NOTIFICATIONS])

    return {"recent": recent, "unread": unread_count(user)}


def _my_people(user: Any) -> Any:
    from django.urls import NoReverseMatch, reverse

    from jindu.people.followup_views import with_links
    from jindu.people.worklist import my_people, summarise

    try:
        reverse("people:my_people")
    except NoReverseMatch:
        # The register's pages are not wired (a trimmed URLconf): no section.
        return None
    summary = summarise(my_people(user, timezone.localdate()))
    with_links(summary.rows)
    return summary


# ---------------------------------------------------------------- one per kind


def _overview(user: Any) -> dict[str, Any]:
    from jindu.orgs.models import Department

    counts = _level_counts(_scope_units(user))
    return {
        "unit": user.org_unit,
        "figures": [
            {
                "label": Level.TOWNSHIP.label,
                "value": counts.get(Level.TOWNSHIP, 0),
                "icon": "buildings",
            },
            {"label": Level.VILLAGE.label, "value": counts.get(Level.VILLAGE, 0), "icon": "house"},
            {"label": Level.GRID.label, "value": counts.get(Level.GRID, 0), "icon": "grid-3x3"},
            {
                "label": _("成员单位"),
                "value": Department.objects.for_user(user).filter(active=True).count(),
                "icon": "diagram-3",
            },
            {
                "label": _("账号"),
                "value": _scope_users(user).filter(is_active=True).count(),
                "icon": "person-badge",
            },
        ],
    }


def _unit(user: Any) -> dict[str, Any]:
    unit = user.org_unit
    counts = _level_counts(_scope_units(user).exclude(pk=unit.pk))
    below = [
        {"label": level.label, "value": counts[level]}
        for level in (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)
        if counts.get(level)
    ]
    return {
        "unit": unit,
        "unit_path": unit.full_name(),
        "department": user.department,
        "below": below,
        "below_total": sum(item["value"] for item in below),
    }


def _department(user: Any) -> dict[str, Any]:
    return {"unit": user.org_unit, "department": user.department}


def _sys_admin(user: Any) -> dict[str, Any]:
    from jindu.codes.models import CodeItem, CodeList

    accounts = _scope_users(user).aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        disabled=Count("id", filter=Q(is_active=False)),
    )
    units = _level_counts(_scope_units(user))
    codes = CodeItem.objects.aggregate(
        items=Count("id", filter=Q(active=True)), retired=Count("id", filter=Q(active=False))
    )
    return {
        "accounts": accounts,
        "units_total": sum(units.values()),
        "units": [
            {"label": level.label, "value": units[level]} for level in Level if units.get(level)
        ],
        "code_lists": CodeList.objects.count(),
        "code_items": codes["items"],
        "code_items_retired": codes["retired"],
    }


def _sec_admin(user: Any) -> dict[str, Any]:
    from jindu.accounts.models import Lockout, RoleGrant, SecurityPolicy
    from jindu.accounts.sessions import live_sessions
    from jindu.orgs.models import OrgUnit

    policy = SecurityPolicy.current()
    in_scope = OrgUnit.objects.for_user(user)
    sessions = live_sessions(policy.session_idle_minutes).filter(user__org_unit__in=in_scope)
    grants = (
        RoleGrant.objects.filter(
            role__in=[r.value for r in ADMIN_ROLES], user__org_unit__in=in_scope
        )
        .select_related("user", "user__org_unit")
        .order_by("user__username")
    )
    admins = [
        {"user": grant.user, "role": Role(grant.role).label, "enrolled": grant.user.totp_enrolled}
        for grant in grants
    ]
    return {
        "policy": policy,
        "sessions_count": sessions.count(),
        "sessions": list(sessions[:RECENT_SESSIONS]),
        "lockouts": Lockout.objects.filter(until__gt=timezone.now()).count(),
        "admins": admins,
        "admins_enrolled": sum(1 for admin in admins if admin["enrolled"]),
    }


def _audit_admin(user: Any) -> dict[str, Any]:
    from jindu.audit.actions import Action
    from jindu.audit.models import AuditEvent

    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    day_ago = now - timedelta(hours=24)
    denials = [Action.PERMISSION_DENIED, Action.OUT_OF_SCOPE]
    counts = AuditEvent.objects.filter(at__gte=min(midnight, day_ago)).aggregate(
        today=Count("id", filter=Q(at__gte=midnight)),
        failed_logins=Count("id", filter=Q(at__gte=day_ago, action=Action.LOGIN_FAILED)),
        denials=Count("id", filter=Q(at__gte=day_ago, action__in=denials)),
        lockouts=Count("id", filter=Q(at__gte=day_ago, action=Action.LOCKOUT)),
    )
    recent = AuditEvent.objects.filter(
        at__gte=day_ago, action__in=[Action.LOGIN_FAILED, Action.LOCKOUT, *denials]
    ).order_by("-seq")[:RECENT_DENIALS]
    return {"counts": counts, "recent": list(recent)}


BUILDERS = {
    "overview": _overview,
    "unit": _unit,
    "grid": _unit,
    "department": _department,
    "sys_admin": _sys_admin,
    "sec_admin": _sec_admin,
    "audit_admin": _audit_admin,
}
