"""Whether to offer "删除" on a person's drug test or visit (``{% load people_corrections %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from jindu.people.followup import may_delete

register = template.Library()


@register.filter
def deletable_by(record: Any, user: Any) -> bool:
    """``{% if t|deletable_by:user %}``: the user's roles allow deleting the record.

    Scope is not checked here: the record is on a page the user may already see;
    the deletion itself checks it again (``followup.delete_test`` / ``delete_visit``).
    """
    return may_delete(user, record)
