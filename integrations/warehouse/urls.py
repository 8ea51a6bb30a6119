"""Pages of the warehouse (included by mes.urls under /kaizen/)."""

from django.urls import path

from . import views

app_name = "kaizen"
urlpatterns = [
    path("capability/", views.capability_index, name="capability_index"),
    path("capability/<str:code>/", views.capability, name="capability"),
    path("capability/<str:code>.csv", views.capability_csv, name="capability_csv"),
    path("capability/<str:code>/changes/", views.capability_changes, name="capability_changes"),
]
