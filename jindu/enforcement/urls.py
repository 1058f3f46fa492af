from django.urls import path

from jindu.enforcement import views, views_caught, views_import

app_name = "enforcement"
urlpatterns = [
    # Cases, suspects, seizures and assets (jindu.enforcement.views)
    path("", views.case_list, name="cases"),
    path("cases/new/", views.case_add, name="case_add"),
    path("cases/export/", views.case_export, name="case_export"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/suspects/new/", views.suspect_add, name="suspect_add"),
    path("cases/<int:pk>/seizures/new/", views.case_seizure_add, name="case_seizure_add"),
    path("cases/<int:pk>/assets/new/", views.asset_add, name="asset_add"),
    path("suspects/<int:pk>/edit/", views.suspect_edit, name="suspect_edit"),
    path("suspects/<int:pk>/reveal/", views.suspect_reveal, name="suspect_reveal"),
    path("seizures/", views.seizure_list, name="seizures"),
    path("seizures/new/", views.seizure_add, name="seizure_add"),
    path("seizures/export/", views.seizure_export, name="seizure_export"),
    path("seizures/<int:pk>/edit/", views.seizure_edit, name="seizure_edit"),
    path("assets/<int:pk>/edit/", views.asset_edit, name="asset_edit"),
    # Users caught and drug-driving tests (jindu.enforcement.views_caught)
    path("caught/", views_caught.caught_list, name="caught"),
    path("caught/new/", views_caught.caught_add, name="caught_add"),
    path("caught/export/", views_caught.caught_export, name="caught_export"),
    path("caught/<int:pk>/edit/", views_caught.caught_edit, name="caught_edit"),
    path("caught/<int:pk>/link/", views_caught.caught_link, name="caught_link"),
    path("caught/<int:pk>/reveal/", views_caught.caught_reveal, name="caught_reveal"),
    path("driving/", views_caught.driving_list, name="driving"),
    path("driving/new/", views_caught.driving_add, name="driving_add"),
    path("driving/export/", views_caught.driving_export, name="driving_export"),
    path("driving/<int:pk>/edit/", views_caught.driving_edit, name="driving_edit"),
    path("driving/<int:pk>/reveal/", views_caught.driving_reveal, name="driving_reveal"),
    # Case import (jindu.enforcement.views_import)
    path("import/", views_import.case_import, name="import"),
    path("import/template/", views_import.case_import_template, name="import_template"),
    path("import/<str:token>/", views_import.case_import_preview, name="import_preview"),
    path(
        "import/<str:token>/rejected/",
        views_import.case_import_rejected,
        name="import_rejected",
    ),
]
