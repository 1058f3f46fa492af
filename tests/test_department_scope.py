"""A department reporter sees their department's records in their subtree, and no one else's."""

from jindu.people.models import Person
from tests.people_factories import make_person


def test_department_reporter_sees_no_register_of_people(personas):
    make_person(personas.county_officer, personas.territory.village_a)
    assert Person.objects.for_user(personas.county_officer).count() == 1
    assert Person.objects.for_user(personas.dept_reporter).count() == 0


def test_police_officer_with_a_department_still_sees_people_of_the_subtree(personas):
    make_person(personas.county_officer, personas.territory.village_a)
    assert Person.objects.for_user(personas.police_officer).count() == 1
