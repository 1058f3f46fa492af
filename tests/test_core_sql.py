"""``jindu.core.sql``: a queryset compiled once, its rows fetched, the dates read back."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import EmptyResultSet

from jindu.core.sql import as_date, compiled, fetch
from jindu.orgs.models import OrgUnit


def test_a_compiled_queryset_fetches_the_rows_it_would_give_itself(personas):
    units = OrgUnit.objects.filter(path__startswith=personas.territory.township_a.path)
    expected = sorted(units.values_list("pk", flat=True))
    rows = fetch(*compiled(units.order_by("pk").values("pk")))
    assert [pk for (pk,) in rows] == expected and expected


def test_a_selection_empty_as_written_does_not_compile(db):
    with pytest.raises(EmptyResultSet):
        compiled(OrgUnit.objects.filter(pk__in=[]))


def test_dates_come_back_as_dates_whichever_way_the_database_gave_them():
    assert as_date(None) is None
    assert as_date(date(2024, 2, 29)) == date(2024, 2, 29)
    assert as_date("2024-02-29") == date(2024, 2, 29)
    assert as_date("2024-02-29 00:00:00") == date(2024, 2, 29)
