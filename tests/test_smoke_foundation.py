from jindu.audit.services import verify
from jindu.orgs.models import Department, OrgUnit


def test_cadre_a_sees_only_township_a(personas):
    names = set(OrgUnit.objects.for_user(personas.cadre_a).values_list("name", flat=True))
    assert names == {"甲镇", "甲一村", "甲一村第一网格"}


def test_admin_creation_is_audited_and_chain_verifies(personas):
    assert verify().ok


def test_department_reporter_is_scoped_to_county(personas):
    assert Department.objects.for_user(personas.dept_reporter).count() == 2
    assert Department.objects.for_user(personas.cadre_a).count() == 0
