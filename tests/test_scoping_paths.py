"""The one subtree query: exact on prefixes, and served by the path index on both
databases (a province has tens of thousands of units and millions of records)."""

from __future__ import annotations

import pytest
from django.db import connection

from jindu.orgs.models import Department, OrgUnit


def _unit(path: str) -> OrgUnit:
    return OrgUnit.objects.create(
        name=f"单位{path}", level="grid", path=path, depth=path.count("/") - 2
    )


@pytest.mark.django_db
def test_subtree_takes_the_unit_and_everything_below_and_nothing_that_merely_shares_digits():
    for path in ("/77/", "/77/8/", "/77/8/9/", "/778/", "/7/", "/770/1/"):
        _unit(path)
    found = set(OrgUnit.objects.within("/77/").values_list("path", flat=True))
    assert found == {"/77/", "/77/8/", "/77/8/9/"}


@pytest.mark.django_db
def test_like_wildcards_in_a_prefix_match_only_themselves():
    for path in ("/7%/", "/7_/", "/77/", "/7%/1/"):
        _unit(path)
    assert set(OrgUnit.objects.within("/7%/").values_list("path", flat=True)) == {"/7%/", "/7%/1/"}
    assert set(OrgUnit.objects.within("/7_/").values_list("path", flat=True)) == {"/7_/"}


def test_a_malformed_prefix_is_refused():
    with pytest.raises(ValueError):
        str(OrgUnit.objects.within("77").query)


def _plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Tiny test tables make a sequential scan cheapest; the question is
            # whether the planner *can* use the index, so take the scan away.
            cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()
    return queryset.explain()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("queryset", "table", "column"),
    [
        (lambda: OrgUnit.objects.within("/1/2/"), "orgs_orgunit", "path"),
        (lambda: Department.objects.within("/1/2/"), "orgs_department", "org_path"),
    ],
)
def test_subtree_queries_use_the_path_index(queryset, table, column):
    plan = _plan(queryset())
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan, plan
        assert "Index" in plan, plan
        assert f"{table}_{column}" in plan or "_uniq" in plan or "_key" in plan, plan
    else:
        assert f"SEARCH {table} USING" in plan and "INDEX" in plan, plan
        assert f"({column}>? AND {column}<?)" in plan, plan


@pytest.mark.django_db
def test_the_scoped_tables_subtree_query_is_one_indexed_search_for_a_user(personas):
    plan = _plan(Department.objects.for_user(personas.cadre_a))
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan, plan
    else:
        assert "SEARCH orgs_department USING" in plan, plan
        assert "org_path>? AND org_path<?" in plan, plan


@pytest.mark.django_db
def test_the_register_has_its_path_index_on_postgresql_only_and_a_subtree_search_either_way():
    """``PostgresOnlyIndex``: on SQLite the keyset index (org_path, id) serves the subtree."""
    from jindu.people.models import Person

    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "people_person")
    assert ("people_person_org_path_idx" in indexes) is (connection.vendor == "postgresql")
    assert indexes["people_person_keyset"]["columns"] == ["org_path", "id"]
    # No index that no query reads: every one costs each insert into a large register.
    indexed = {tuple(c["columns"]) for c in indexes.values() if c["index"] or c["unique"]}
    assert ("name",) not in indexed and ("measure_until",) not in indexed
    plan = _plan(Person.objects.within("/1/2/"))
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan and "people_person_org_path_idx" in plan, plan
    else:
        assert "SEARCH people_person USING" in plan and "people_person_keyset" in plan, plan
        assert "org_path>? AND org_path<?" in plan, plan


def test_common_ancestor_of_paths():
    from jindu.core.paths import common_ancestor

    assert common_ancestor(["/1/7/42/", "/1/7/43/"]) == "/1/7/"
    assert common_ancestor(["/1/7/42/", "/1/7/42/9/"]) == "/1/7/42/"
    assert common_ancestor(["/1/7/", "/2/"]) == "/"
    assert common_ancestor(["/1/17/", "/1/7/"]) == "/1/"
    assert common_ancestor([]) == "/"
