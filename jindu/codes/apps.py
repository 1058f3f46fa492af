from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    name = "jindu.codes"
    label = "codes"
    verbose_name = _("字典")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from jindu.codes.loader import after_migrate
        from jindu.portal.navigation import AREAS, register

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="jindu_codes_defaults")
        # Every signed-in user may read the lists; only the system administrator changes them.
        if "codes:lists" not in {entry.url_name for entry in AREAS["system"].entries}:
            register("system", _("字典管理"), "codes:lists", None, "journal-text")
