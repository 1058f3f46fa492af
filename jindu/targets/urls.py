from django.urls import path

from jindu.targets import views, views_letters, views_reported

app_name = "targets"
urlpatterns = [
    path("", views.target_list, name="list"),
    path("add/", views.target_add, name="target_add"),
    path("export/", views.target_export, name="export"),
    path("<int:pk>/breakdown/", views.breakdown, name="breakdown"),
    path("<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("board/", views.board_page, name="board"),
    path("board/export/", views.board_export, name="board_export"),
    path("reported/", views_reported.reported_list, name="reported"),
    path("reported/enter/", views_reported.reported_enter, name="reported_enter"),
    path("reported/unlock/", views_reported.reported_unlock, name="reported_unlock"),
    path("reported/rule/", views_reported.rule_edit, name="rule_edit"),
    path("reported/<int:pk>/submit/", views_reported.reported_submit, name="reported_submit"),
    path("reported/<int:pk>/approve/", views_reported.reported_approve, name="reported_approve"),
    path("reported/<int:pk>/return/", views_reported.reported_return, name="reported_return"),
    path("letters/", views_letters.letter_table, name="letters"),
    path("letters/draft/", views_letters.letters_draft, name="letters_draft"),
    path("letters/templates/", views_letters.templates, name="templates"),
    path("letters/templates/download/", views_letters.template_download, name="template_download"),
    path("letters/<int:pk>/", views_letters.letter_detail, name="letter"),
    path("letters/<int:pk>/document/", views_letters.letter_download, name="letter_download"),
    path("letters/<int:pk>/scan/", views_letters.letter_scan, name="letter_scan"),
    path("key-townships/", views_letters.key_townships, name="key_townships"),
    path("key-townships/<int:pk>/", views_letters.key_township, name="key_township"),
    path("key-townships/<int:pk>/delist/", views_letters.key_delist, name="key_delist"),
    path("key-townships/<int:pk>/letter/", views_letters.key_letter, name="key_letter"),
    path("tasks/<int:pk>/done/", views_letters.task_done, name="task_done"),
]
