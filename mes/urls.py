from django.contrib import admin
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import include, path, re_path

from mes.api import api
from mes.health import healthz

admin.site.site_header = "Traveler administration"
admin.site.site_title = "Traveler"
admin.site.index_title = "Master data, users and records"


def api_not_found(request, *args, **kwargs):
    return JsonResponse(
        {"error": {"code": "not_found", "message": f"no API endpoint {request.path}", "field": None}}, status=404
    )


def favicon(request):
    """Browsers ask /favicon.ico whatever the page links: send them to the icon (its hashed name is only
    known once static files are collected, hence at request time)."""
    return HttpResponsePermanentRedirect(static("traveler/favicon.svg"))


handler403 = "mes.errors.forbidden"
handler404 = "mes.errors.not_found"
handler500 = "mes.outage.server_error"  # a database outage is a 503; the API's errors stay JSON

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),  # anything else under /api/ answers JSON, not an HTML page
    path("admin/", admin.site.urls),
    path("changes/", include("mes.masterdata.views")),
    path("trace/", include("integrations.traceability.urls")),
    path("", include("integrations.urls")),
    path("archive/", include("integrations.archive.urls")),
    path("kaizen/", include("integrations.warehouse.urls")),
    path("board/", include("integrations.board.urls")),
    path("", include("travelers.urls")),
]
