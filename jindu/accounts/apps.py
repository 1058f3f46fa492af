from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jindu.accounts"
    label = "accounts"
    verbose_name = "账号与安全"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from jindu.accounts import sessions

        # Every sign-in, however it happens, registers a live session that the
        # security administrator can list and end.
        user_logged_in.connect(sessions.register_session, dispatch_uid="jindu_register_session")
        user_logged_out.connect(sessions.forget_session, dispatch_uid="jindu_forget_session")
