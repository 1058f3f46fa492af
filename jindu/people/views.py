"""Pages of the register."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from jindu.core.access import require
from jindu.core.roles import Perm
from jindu.core.scoping import get_in_scope_or_404
from jindu.people.models import Person
from jindu.people.rules import flags_for
from jindu.people.status import status_on


@require(Perm.PERSONAL_DATA)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_in_scope_or_404(Person, request.user, pk=pk)
    today = timezone.localdate()
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "status": status_on(person, today),
            "flags": flags_for(person, today=today),
        },
    )
