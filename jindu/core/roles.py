"""Roles and the capabilities they carry: the one place that says who may do what.

Views declare the capability they need (``@require(Perm.X)``); this table maps
roles to capabilities. Graded protection level 3 asks for three separated
administrators who see no personal data, so administrator roles are exclusive.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    COUNTY_OFFICE = "county_office"
    DEPT_REPORTER = "dept_reporter"
    TOWNSHIP_MANAGER = "township_manager"
    GRID_WORKER = "grid_worker"
    POLICE = "police"
    LEADER = "leader"
    SYS_ADMIN = "sys_admin"
    SEC_ADMIN = "sec_admin"
    AUDIT_ADMIN = "audit_admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ROLE_LABELS = {
    Role.COUNTY_OFFICE: _("县禁毒办"),
    Role.DEPT_REPORTER: _("成员单位填报员"),
    Role.TOWNSHIP_MANAGER: _("乡镇禁毒专干"),
    Role.GRID_WORKER: _("网格员/禁毒社工"),
    Role.POLICE: _("民警"),
    Role.LEADER: _("领导（只读）"),
    Role.SYS_ADMIN: _("系统管理员"),
    Role.SEC_ADMIN: _("安全管理员"),
    Role.AUDIT_ADMIN: _("审计管理员"),
}

ADMIN_ROLES = frozenset({Role.SYS_ADMIN, Role.SEC_ADMIN, Role.AUDIT_ADMIN})
EVERYDAY_ROLES = frozenset(Role) - ADMIN_ROLES
ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]


class Perm(StrEnum):
    """A capability a view or service may require."""

    ORG_VIEW = "org_view"
    ORG_MANAGE = "org_manage"
    DEPT_MANAGE = "dept_manage"
    CODES_MANAGE = "codes_manage"
    ACCOUNT_MANAGE = "account_manage"
    ROLE_MANAGE = "role_manage"
    SESSION_MANAGE = "session_manage"
    AUDIT_READ = "audit_read"
    PERSONAL_DATA = "personal_data"
    PERSONAL_REVEAL = "personal_reveal"
    RECORD_WRITE = "record_write"
    DASHBOARD_VIEW = "dashboard_view"
    FOLLOWUP_POLICY = "followup_policy"
    FOLLOWUP_CORRECT = "followup_correct"
    REGULATION_POLICY = "regulation_policy"
    INSPECTION_RULES = "inspection_rules"
    TARGETS_MANAGE = "targets_manage"


_OFFICE_AND_FIELD = {
    Role.COUNTY_OFFICE,
    Role.TOWNSHIP_MANAGER,
    Role.GRID_WORKER,
    Role.POLICE,
}

PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.ORG_VIEW: frozenset(EVERYDAY_ROLES | {Role.SYS_ADMIN, Role.SEC_ADMIN}),
    Perm.ORG_MANAGE: frozenset({Role.COUNTY_OFFICE, Role.SYS_ADMIN}),
    Perm.DEPT_MANAGE: frozenset({Role.COUNTY_OFFICE, Role.SYS_ADMIN}),
    Perm.CODES_MANAGE: frozenset({Role.SYS_ADMIN}),
    Perm.ACCOUNT_MANAGE: frozenset({Role.SYS_ADMIN}),
    Perm.ROLE_MANAGE: frozenset({Role.SEC_ADMIN}),
    Perm.SESSION_MANAGE: frozenset({Role.SEC_ADMIN}),
    Perm.AUDIT_READ: frozenset({Role.AUDIT_ADMIN}),
    Perm.PERSONAL_DATA: frozenset(_OFFICE_AND_FIELD | {Role.DEPT_REPORTER}),
    Perm.PERSONAL_REVEAL: frozenset({Role.COUNTY_OFFICE, Role.TOWNSHIP_MANAGER, Role.POLICE}),
    Perm.RECORD_WRITE: frozenset(_OFFICE_AND_FIELD | {Role.DEPT_REPORTER}),
    Perm.DASHBOARD_VIEW: frozenset(EVERYDAY_ROLES),
    # The local rules of community detox and rehab are the county office's to set.
    Perm.FOLLOWUP_POLICY: frozenset({Role.COUNTY_OFFICE}),
    # Deleting a drug test or visit entered more than 90 days ago: by then the
    # record has gone into reports and assessments, so only the county office may
    # (a recent mistake is corrected by whoever may record it: RECORD_WRITE).
    Perm.FOLLOWUP_CORRECT: frozenset({Role.COUNTY_OFFICE}),
    # Licence warnings, reporting deadlines and matching tolerances of regulation.
    Perm.REGULATION_POLICY: frozenset({Role.COUNTY_OFFICE}),
    # So are the periods of venue checks and the season and minimum of cultivation patrols.
    Perm.INSPECTION_RULES: frozenset({Role.COUNTY_OFFICE}),
    # Targets and their breakdown, approval of reported values, responsibility letters
    # and key townships: the county office's, on behalf of the commission.
    Perm.TARGETS_MANAGE: frozenset({Role.COUNTY_OFFICE}),
}

# Administrators never hold a capability that shows personal data.
assert not any(PERMISSIONS[p] & ADMIN_ROLES for p in (Perm.PERSONAL_DATA, Perm.PERSONAL_REVEAL))


def roles_with(perm: Perm) -> frozenset[Role]:
    return PERMISSIONS[perm]


def has_perm(role_codes: frozenset[str] | set[str], perm: Perm) -> bool:
    return bool(PERMISSIONS[perm] & {Role(code) for code in role_codes})
