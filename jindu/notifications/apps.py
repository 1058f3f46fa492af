from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "jindu.notifications"
    label = "notifications"
    verbose_name = "通知"
