from django.urls import path

from jindu.inspections import courier_views, patrol_views, views

app_name = "inspections"
urlpatterns = [
    # Key venues (jindu.inspections.views)
    path("venues/", views.venue_list, name="venues"),
    path("venues/export/", views.venue_export, name="venue_export"),
    path("venues/new/", views.venue_create, name="venue_create"),
    path("venues/<int:pk>/", views.venue_detail, name="venue"),
    path("venues/<int:pk>/edit/", views.venue_edit, name="venue_edit"),
    path("venues/<int:pk>/letters/new/", views.letter_add, name="letter_add"),
    path("venues/<int:pk>/inspections/new/", views.inspection_add, name="inspection_add"),
    path("venue-inspections/<int:pk>/fix/", views.inspection_fix, name="inspection_fix"),
    path("letters/<int:pk>/scan/", views.letter_scan, name="letter_scan"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    # Courier outlets (jindu.inspections.courier_views)
    path("courier/", courier_views.courier_list, name="courier"),
    path("courier/export/", courier_views.courier_export, name="courier_export"),
    path("courier/new/", courier_views.outlet_create, name="outlet_create"),
    path("courier/<int:pk>/", courier_views.outlet_detail, name="outlet"),
    path("courier/<int:pk>/edit/", courier_views.outlet_edit, name="outlet_edit"),
    path(
        "courier/<int:pk>/inspections/new/",
        courier_views.courier_inspection_add,
        name="courier_inspection_add",
    ),
    # Cultivation patrols and the county's rules (jindu.inspections.patrol_views)
    path("patrols/", patrol_views.patrol_list, name="patrols"),
    path("patrols/export/", patrol_views.patrol_export, name="patrol_export"),
    path("patrols/new/", patrol_views.patrol_add, name="patrol_add"),
    path("patrols/<int:pk>/", patrol_views.patrol_detail, name="patrol"),
    path("rules/", patrol_views.rules, name="rules"),
]
