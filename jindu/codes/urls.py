from django.urls import path

from jindu.codes import views

app_name = "codes"
urlpatterns = [
    path("", views.code_lists, name="lists"),
    path("new/", views.code_list_add, name="list_add"),
    path("<slug:key>/", views.code_list_detail, name="list"),
    path("<slug:key>/edit/", views.code_list_edit, name="list_edit"),
    path("<slug:key>/items/add/", views.item_add, name="item_add"),
    path("<slug:key>/items/<str:code>/edit/", views.item_edit, name="item_edit"),
    path("<slug:key>/items/<str:code>/retire/", views.item_retire, name="item_retire"),
    path("<slug:key>/items/<str:code>/restore/", views.item_restore, name="item_restore"),
]
