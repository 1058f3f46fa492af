from django.urls import path

from jindu.regulation import views, views_campaigns, views_findings, views_ledger

app_name = "regulation"
urlpatterns = [
    # Regulated units (jindu.regulation.views)
    path("", views.unit_list, name="units"),
    path("units/new/", views.unit_add, name="unit_add"),
    path("units/export/", views.unit_export, name="unit_export"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:pk>/licences/new/", views.licence_add, name="licence_add"),
    path("licences/<int:pk>/edit/", views.licence_edit, name="licence_edit"),
    path("units/<int:pk>/allowances/new/", views.allowance_add, name="allowance_add"),
    path("allowances/<int:pk>/remove/", views.allowance_remove, name="allowance_remove"),
    path("units/<int:pk>/contacts/new/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/remove/", views.contact_remove, name="contact_remove"),
    path("catalogue/", views.catalogue_list, name="catalogue"),
    path("catalogue/new/", views.substance_add, name="substance_add"),
    path("catalogue/<int:pk>/edit/", views.substance_edit, name="substance_edit"),
    path("policy/", views.policy, name="policy"),
    # Ledgers (jindu.regulation.views_ledger)
    path("units/<int:pk>/ledger/", views_ledger.ledger_page, name="ledger"),
    path("units/<int:pk>/ledger/new/", views_ledger.entry_add, name="entry_add"),
    path("units/<int:pk>/ledger/export/", views_ledger.ledger_export, name="ledger_export"),
    path("entries/<int:pk>/void/", views_ledger.entry_void, name="entry_void"),
    path("entries/<int:pk>/reported/", views_ledger.entry_reported, name="entry_reported"),
    path("import/", views_ledger.ledger_import, name="import"),
    path("import/template/", views_ledger.ledger_import_template, name="import_template"),
    path("import/<str:token>/", views_ledger.ledger_import_preview, name="import_preview"),
    path(
        "import/<str:token>/rejected/", views_ledger.ledger_import_rejected, name="import_rejected"
    ),
    # Reconciliation and findings (jindu.regulation.views_findings)
    path("reconcile/", views_findings.reconcile_page, name="reconcile"),
    path("reconcile/run/", views_findings.reconcile_run, name="reconcile_run"),
    path("findings/", views_findings.finding_list, name="findings"),
    path("findings/export/", views_findings.finding_export, name="finding_export"),
    path("findings/<int:pk>/", views_findings.finding_detail, name="finding"),
    path("findings/<int:pk>/assign/", views_findings.finding_assign, name="finding_assign"),
    path("findings/<int:pk>/close/", views_findings.finding_close, name="finding_close"),
    # Special-check campaigns (jindu.regulation.views_campaigns)
    path("campaigns/", views_campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", views_campaigns.campaign_add, name="campaign_add"),
    path("campaigns/<int:pk>/", views_campaigns.campaign_detail, name="campaign"),
    path("targets/<int:pk>/check/", views_campaigns.check_add, name="check_add"),
]
