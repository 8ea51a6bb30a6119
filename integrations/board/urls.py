"""The live board (included by mes.urls under /board/)."""

from django.urls import path

from . import views

app_name = "board"
urlpatterns = [
    path("", views.board, name="all"),
    path("<str:site>/", views.board, name="site"),
]
