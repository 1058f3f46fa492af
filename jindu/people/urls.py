from django.urls import path

from jindu.people import (
    correction_views,
    followup_views,
    import_views,
    movement_views,
    policy_views,
    team_views,
    views,
)

app_name = "people"
urlpatterns = [
    # The register: list, searches, export (jindu.people.views)
    path("", views.person_list, name="list"),
    path("count/", views.list_count, name="count"),
    path("search/", views.search, name="search"),
    path("export/", views.export, name="export"),
    path("new/", views.create, name="create"),
    # Legacy register import (jindu.people.import_views)
    path("import/", import_views.person_import, name="import"),
    path("import/template/", import_views.person_import_template, name="import_template"),
    path("import/<str:token>/", import_views.person_import_preview, name="import_preview"),
    path(
        "import/<str:token>/rejected/",
        import_views.person_import_rejected,
        name="import_rejected",
    ),
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
    # Help teams and risk (jindu.people.team_views)
    path("<int:pk>/team/", team_views.team, name="team"),
    path("<int:pk>/team/section/", team_views.team_section, name="team_section"),
    path("<int:pk>/team/add/", team_views.team_add, name="team_add"),
    path("team-members/<int:pk>/end/", team_views.team_end, name="team_end"),
    path("teams/incomplete/", team_views.teams_incomplete, name="teams_incomplete"),
    path(
        "teams/incomplete/export/",
        team_views.teams_incomplete_export,
        name="teams_incomplete_export",
    ),
    # Movement: transfers, death, moving away, outflow (jindu.people.movement_views)
    path("<int:pk>/transfer/", movement_views.transfer, name="transfer"),
    path("transfers/", movement_views.transfer_list, name="transfers"),
    path("<int:pk>/death/", movement_views.record_death, name="record_death"),
    path("<int:pk>/moved-away/", movement_views.record_moved_away, name="record_moved_away"),
    path("outflow/", movement_views.outflow_list, name="outflow_list"),
    path("outflow/add/", movement_views.outflow_add, name="outflow_add"),
    path("outflow/export/", movement_views.outflow_export, name="outflow_export"),
    # Follow-up: tests, visits, absences, worklists, policy (jindu.people.followup_views)
    path("my/", followup_views.my_people, name="my_people"),
    path("overdue/", followup_views.overdue, name="overdue"),
    path("overdue/export/", followup_views.overdue_export, name="overdue_export"),
    path("policy/", policy_views.policy, name="policy"),
    path("<int:pk>/followup/", followup_views.person_page, name="followup"),
    path("<int:pk>/followup/section/", followup_views.person_panel, name="followup_panel"),
    path("<int:pk>/tests/add/", followup_views.test_add, name="test_add"),
    path("<int:pk>/visits/add/", followup_views.visit_add, name="visit_add"),
    path("<int:pk>/absences/add/", followup_views.absence_add, name="absence_add"),
    path("absences/<int:pk>/return/", followup_views.absence_return, name="absence_return"),
    # Deleting a test or visit recorded by mistake (jindu.people.correction_views)
    path("tests/<int:pk>/delete/", correction_views.test_delete, name="test_delete"),
    path("visits/<int:pk>/delete/", correction_views.visit_delete, name="visit_delete"),
]
