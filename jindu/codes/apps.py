from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "jindu.codes"
    label = "codes"
    verbose_name = "字典"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from jindu.codes.loader import after_migrate

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="jindu_codes_defaults")
