from django.urls import include, path

urlpatterns = [
    path("", include("jindu.portal.urls")),
    path("accounts/", include("jindu.accounts.urls")),
    path("orgs/", include("jindu.orgs.urls")),
    path("codes/", include("jindu.codes.urls")),
    path("audit/", include("jindu.audit.urls")),
    path("notifications/", include("jindu.notifications.urls")),
    path("people/", include("jindu.people.urls")),
    path("inspections/", include("jindu.inspections.urls")),
    path("regulation/", include("jindu.regulation.urls")),
    path("enforcement/", include("jindu.enforcement.urls")),
    path("targets/", include("jindu.targets.urls")),
    path("dashboards/", include("jindu.dashboards.urls")),
]

handler400 = "jindu.portal.views.bad_request"
handler403 = "jindu.portal.views.permission_denied"
handler404 = "jindu.portal.views.page_not_found"
handler500 = "jindu.portal.views.server_error"
