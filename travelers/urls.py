"""Pages: each views module keeps its own urlpatterns (station, quality, printing, supervisor)."""

from travelers.views import audit, credentials, printing, quality, station, supervisor, supervisor_actions

app_name = "travelers"
urlpatterns = (
    station.urlpatterns
    + quality.urlpatterns
    + printing.urlpatterns
    + supervisor.urlpatterns
    + supervisor_actions.urlpatterns
    + credentials.urlpatterns
    + audit.urlpatterns
)
