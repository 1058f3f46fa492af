from django.urls import path

from jindu.people import views

app_name = "people"
urlpatterns = [
    # The register: list, searches, export (jindu.people.views)
    path("", views.person_list, name="list"),
    path("count/", views.list_count, name="count"),
    path("search/", views.search, name="search"),
    path("export/", views.export, name="export"),
    path("new/", views.create, name="create"),
    # One person
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/reveal/<slug:field>/", views.reveal, name="reveal"),
    # Measures
    path("<int:pk>/measures/new/", views.measure_add, name="measure_add"),
    path("<int:pk>/measures/<int:mpk>/edit/", views.measure_edit, name="measure_edit"),
    path("<int:pk>/measures/<int:mpk>/end/", views.measure_end, name="measure_end"),
    path(
        "<int:pk>/measures/<int:mpk>/report-in/",
        views.measure_report_in,
        name="measure_report_in",
    ),
    # Other parts of the register add their pages below, one block each.
]
