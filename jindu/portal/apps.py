from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "jindu.portal"
    label = "portal"
    verbose_name = "门户"
