from django.urls import path

from jindu.orgs import views, views_departments

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("export/", views.unit_export, name="export"),
    path("import/", views.unit_import, name="import"),
    path("import/template/", views.unit_import_template, name="import_template"),
    path("import/<str:token>/", views.unit_import_preview, name="import_preview"),
    path("import/<str:token>/rejected/", views.unit_import_rejected, name="import_rejected"),
    path("<int:pk>/", views.unit_detail, name="unit"),
    path("<int:pk>/children/", views.children, name="children"),
    path("<int:pk>/add/", views.unit_add, name="unit_add"),
    path("<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("<int:pk>/move/", views.unit_move, name="unit_move"),
    path("<int:pk>/retire/", views.unit_retire, name="unit_retire"),
    path("<int:pk>/restore/", views.unit_restore, name="unit_restore"),
    path("departments/", views_departments.department_list, name="departments"),
    path("departments/add/", views_departments.department_add, name="department_add"),
    path("departments/export/", views_departments.department_export, name="department_export"),
    path("departments/import/", views_departments.department_import, name="department_import"),
    path(
        "departments/import/template/",
        views_departments.department_import_template,
        name="department_import_template",
    ),
    path(
        "departments/import/<str:token>/",
        views_departments.department_import_preview,
        name="department_import_preview",
    ),
    path(
        "departments/import/<str:token>/rejected/",
        views_departments.department_import_rejected,
        name="department_import_rejected",
    ),
    path("departments/<int:pk>/edit/", views_departments.department_edit, name="department_edit"),
    path(
        "departments/<int:pk>/retire/",
        views_departments.department_retire,
        name="department_retire",
    ),
    path(
        "departments/<int:pk>/restore/",
        views_departments.department_restore,
        name="department_restore",
    ),
]
