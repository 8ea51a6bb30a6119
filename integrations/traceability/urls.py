"""Traceability pages, under /trace/ (included by mes.urls)."""

from django.urls import path

from . import views

app_name = "traceability"
urlpatterns = [
    path("", views.search_page, name="search"),
    path("items/<int:item_id>/", views.item_trace, name="item"),
    path("archived/<str:number>/", views.archived_trace, name="archived"),
    path("recall/", views.recall_page, name="recall"),
    path("recall.csv", views.recall_csv, name="recall_csv"),
    path("recall.xlsx", views.recall_xlsx, name="recall_xlsx"),
]
