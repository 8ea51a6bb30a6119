"""Pages of the integrations: the sync status page (included by mes.urls)."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("integrations/status", views.sync_status, name="status"),
    path("integrations/messages/<int:pk>/reprocess", views.message_reprocess, name="message_reprocess"),
    path("integrations/deliveries/<int:pk>/redeliver", views.delivery_redeliver, name="delivery_redeliver"),
    path("integrations/reconciliations/", views.reconciliations, name="reconciliations"),
    path("integrations/reconciliations/<int:pk>.csv", views.reconciliation_csv, name="reconciliation_csv"),
]
