from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "jindu.accounts"
    label = "accounts"
    verbose_name = "账号与安全"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from jindu.accounts import sessions
        from jindu.core.roles import Perm
        from jindu.portal.navigation import register

        # Every sign-in, however it happens, registers a live session that the
        # security administrator can list and end.
        user_logged_in.connect(sessions.register_session, dispatch_uid="jindu_register_session")
        user_logged_out.connect(sessions.forget_session, dispatch_uid="jindu_forget_session")

        register(
            "system", _("账号管理"), "accounts:account_list", Perm.ACCOUNT_MANAGE, "person-gear"
        )
        register(
            "system", _("角色与数据范围"), "accounts:role_list", Perm.ROLE_MANAGE, "person-lock"
        )
        register("system", _("在线用户"), "accounts:sessions", Perm.SESSION_MANAGE, "broadcast")
        register("system", _("安全策略"), "accounts:policy", Perm.ROLE_MANAGE, "shield-lock")
