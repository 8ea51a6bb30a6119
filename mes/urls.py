from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from mes.health import healthz

admin.site.site_header = "Traveler administration"
admin.site.site_title = "Traveler"
admin.site.index_title = "Master data, users and records"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
