"""Access rules that every view declares; a view without one is refused.

``AccessRuleMiddleware`` reads the rule before the view runs. Roles decide which
pages a user may open (403 otherwise); scoping decides which records they see
(404 otherwise, see ``jindu.core.scoping``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jindu.core.roles import Perm

ATTR = "jindu_access"


@dataclass(frozen=True)
class AccessRule:
    """``public``: anyone; ``perm`` None and not public: any signed-in user."""

    public: bool = False
    perm: Perm | None = None
    # A page reachable before a forced password change or TOTP enrolment is complete.
    during_setup: bool = False

    def describe(self) -> str:
        if self.public:
            return "public"
        return f"perm:{self.perm}" if self.perm else "signed-in"


def _mark(rule: AccessRule) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ATTR, rule)
        return view

    return decorate


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anyone, signed in or not (the login page, health check)."""
    return _mark(AccessRule(public=True, during_setup=True))(view)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Any signed-in user, whatever their role."""
    return _mark(AccessRule())(view)


def setup_step(view: Callable[..., Any]) -> Callable[..., Any]:
    """A signed-in user's own account page, reachable during a forced password change."""
    return _mark(AccessRule(during_setup=True))(view)


def require(perm: Perm) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A signed-in user holding a role that carries ``perm``."""
    return _mark(AccessRule(perm=perm))


def rule_of(view: Callable[..., Any]) -> AccessRule | None:
    rule = getattr(view, ATTR, None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, ATTR, None)
    return rule
