from django.urls import path

from jindu.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.county, name="county"),
    path("unit/<int:pk>/", views.unit, name="unit"),
    path("screen/", views.screen, name="screen"),
    path("screen/panel/", views.screen_panel, name="screen_panel"),
]
