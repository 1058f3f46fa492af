from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "jindu.audit"
    label = "audit"
    verbose_name = "审计"
