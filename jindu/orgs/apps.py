from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "jindu.orgs"
    label = "orgs"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.orgs import importers  # noqa: F401  (registers the sheets `jindu import` reads)
        from jindu.portal.navigation import AREAS, register

        known = {entry.url_name for entry in AREAS["system"].entries}
        for label, url_name, icon in (
            (_("区划与单位"), "orgs:tree", "diagram-3"),
            (_("成员单位"), "orgs:departments", "building"),
        ):
            if url_name not in known:
                register("system", label, url_name, Perm.ORG_VIEW, icon)
