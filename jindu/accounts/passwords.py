"""Password rules graded protection asks for; the numbers come from the security policy."""

from __future__ import annotations

import string
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _policy() -> Any:
    from jindu.accounts.models import SecurityPolicy

    return SecurityPolicy.current()


def character_classes(password: str) -> int:
    return sum(
        [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(c in string.punctuation or not c.isalnum() for c in password),
        ]
    )


class ComplexityValidator:
    """At least N characters with at least K of: upper case, lower case, digits, symbols."""

    def __init__(self, min_length: int = 8, min_classes: int = 3) -> None:
        self.default_length = min_length
        self.default_classes = min_classes

    def _limits(self) -> tuple[int, int]:
        try:
            policy = _policy()
            return policy.password_min_length, policy.password_min_classes
        except Exception:  # noqa: BLE001 - before migrations, fall back to settings
            return self.default_length, self.default_classes

    def validate(self, password: str, user: Any = None) -> None:
        length, classes = self._limits()
        if len(password) < length:
            raise ValidationError(
                _("密码至少需要%(length)d位") % {"length": length}, code="password_too_short"
            )
        if character_classes(password) < classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少%(classes)d种")
                % {"classes": classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        length, classes = self._limits()
        return _("至少%(length)d位，包含大写字母、小写字母、数字、符号中的至少%(classes)d种。") % {
            "length": length,
            "classes": classes,
        }


class NotContainingUsernameValidator:
    def validate(self, password: str, user: Any = None) -> None:
        username = getattr(user, "username", "") or ""
        if username and username.lower() in password.lower():
            raise ValidationError(_("密码不能包含用户名"), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("不能包含用户名。")
