from django.urls import path

from jindu.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("<int:seq>/", views.event_detail, name="detail"),
    path("export/", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
]
