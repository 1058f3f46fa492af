"""Sign-in against jindu's accounts: active accounts only, constant work for unknown names."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from jindu.accounts.models import User


class ScopedUserBackend(BaseBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        user = User.objects.filter(username=username).select_related("org_unit").first()
        if user is None:
            # Spend the same time as a real check, so timing tells nothing.
            User().set_password(password)
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        return (
            User.objects.filter(pk=user_id, is_active=True)
            .select_related("org_unit", "department")
            .first()
        )
