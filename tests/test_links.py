"""Row addresses reversed once per list give what ``reverse`` gives for each row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jindu.core.links import keyed_url


@pytest.mark.parametrize("name", ["people:detail", "people:followup", "people:test_add"])
def test_each_key_gets_the_address_reverse_gives(name):
    url = keyed_url(name)
    for key in (1, 7, 10, 2147483646, 999_999_999_999):
        assert url(key) == reverse(name, kwargs={"pk": key})


def test_a_key_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        keyed_url("people:detail")("1/../../admin")
