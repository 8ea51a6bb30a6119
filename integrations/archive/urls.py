"""URLs of the archive (included by mes.urls under /archive/)."""

from django.urls import path

from . import views

app_name = "archive"
urlpatterns = [
    path("", views.archive_index, name="index"),
    path("<str:number>/", views.archive_traveler, name="traveler"),
    path("<str:number>/traveler.json", views.archive_traveler_json, name="traveler_json"),
    path("<str:number>/traveler.pdf", views.archive_traveler_pdf, name="traveler_pdf"),
    path("<str:number>/package.tar", views.archive_package, name="package"),
]
