from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "jindu.people"
    label = "people"
    verbose_name = "戒毒管控"

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.portal.navigation import register

        register("rehab", _("人员名册"), "people:list", Perm.PERSONAL_DATA, "person-vcard")
