"""Pages of the travelers app: every route in one place, grouped by screen.

One file answers "which view serves /station/…?": the views modules hold views only.
"""

from django.urls import path

from travelers.views import (
    audit,
    credentials,
    printing,
    quality,
    screen_signing,
    screen_values,
    station,
    station_auth,
    station_files,
    station_work_center,
    supervisor,
    supervisor_actions,
    traveler_screen,
)

app_name = "travelers"

STATION_TRAVELER = "station/travelers/<str:number>/"
STATION_STEP = STATION_TRAVELER + "steps/<int:sequence>/"
SUPERVISOR_TRAVELER = "supervisor/travelers/<str:number>/"

urlpatterns = [
    # Station: the tablet's home, queue and scan, and its sign-in, lock and work-center pick
    path("", station.station_home, name="station_home"),
    path("station/queue/", station.station_queue, name="station_queue"),
    path("station/scan/", station.station_scan, name="station_scan"),
    path("station/login/", station_auth.station_login, name="station_login"),
    path("station/lock/", station_auth.station_lock, name="station_lock"),
    path("station/alive/", station_auth.station_alive, name="station_alive"),
    path("station/work-center/", station_auth.station_pick, name="station_pick"),
    # Station: the traveler screen — one traveler, one step, and what an operator does on it
    path(STATION_TRAVELER, traveler_screen.traveler_page, name="station_traveler"),
    path(STATION_STEP, traveler_screen.traveler_page, name="station_step"),
    path(STATION_STEP + "start/", traveler_screen.step_start, name="station_step_start"),
    path(STATION_STEP + "sign/", screen_signing.step_sign, name="station_step_sign"),
    path(STATION_STEP + "values/", screen_values.values_record, name="station_values_record"),
    path(STATION_STEP + "values/<int:char_id>/", screen_values.value_record, name="station_value_record"),
    path(
        STATION_STEP + "values/<int:char_id>/preview/",
        screen_values.value_preview,
        name="station_value_preview",
    ),
    path(
        STATION_STEP + "measurements/<int:measurement_id>/correct/",
        screen_signing.value_correct,
        name="station_value_correct",
    ),
    path(STATION_STEP + "photos/", traveler_screen.photo_add, name="station_photo"),
    path(STATION_STEP + "components/", traveler_screen.component_consume, name="station_component"),
    path(STATION_STEP + "ncrs/", traveler_screen.ncr_raise, name="station_ncr"),
    path(
        STATION_STEP + "work-center/",
        station_work_center.work_center_override,
        name="station_work_center_override",
    ),
    path("station/instructions/<int:pk>/", station_files.instruction_file, name="station_instruction_file"),
    path("station/attachments/<int:pk>/", station_files.record_file, name="station_record_file"),
    # Quality: the review queue, a traveler's review, sign-off and signatures, an NCR's disposition
    path("quality/", quality.quality_queue, name="quality_queue"),
    path("quality/travelers/<str:number>/", quality.quality_review, name="quality_review"),
    path("quality/travelers/<str:number>/signoff/", quality.quality_signoff, name="quality_signoff"),
    path("quality/travelers/<str:number>/signatures/", quality.quality_signatures, name="quality_signatures"),
    path("quality/ncrs/<str:number>/", quality.ncr_disposition, name="ncr_disposition"),
    # Printing: the printed traveler, as a page and as a PDF
    path("travelers/<str:number>/print/", printing.traveler_print, name="traveler_print"),
    path("travelers/<str:number>/print.pdf", printing.traveler_print_pdf, name="traveler_pdf"),
    # Supervisor: the overview, releasing work orders, control charts
    path("supervisor/", supervisor.supervisor_overview, name="supervisor_overview"),
    path("supervisor/release/", supervisor.supervisor_release, name="supervisor_release"),
    path("supervisor/spc/", supervisor.spc_index, name="spc_index"),
    path("supervisor/spc/<str:part>/<str:code>/", supervisor.spc_chart, name="spc_chart"),
    # Supervisor: one traveler — find it, hold and release, skip a step, re-plan
    path("supervisor/travelers/", supervisor_actions.traveler_find, name="supervisor_traveler_find"),
    path(SUPERVISOR_TRAVELER, supervisor_actions.traveler_page, name="supervisor_traveler"),
    path(SUPERVISOR_TRAVELER + "hold/", supervisor_actions.hold_place, name="supervisor_hold_place"),
    path(
        SUPERVISOR_TRAVELER + "holds/<int:hold_id>/release/",
        supervisor_actions.hold_release,
        name="supervisor_hold_release",
    ),
    path(
        SUPERVISOR_TRAVELER + "steps/<int:sequence>/skip/",
        supervisor_actions.step_skip,
        name="supervisor_step_skip",
    ),
    path(SUPERVISOR_TRAVELER + "replan/", supervisor_actions.replan, name="supervisor_replan"),
    # Credentials: one's own account (password, PIN, language), and the signers a supervisor unlocks
    path("station/account/", credentials.station_account, name="station_account"),
    path("supervisor/signers/", credentials.signers, name="signers"),
    # Audit: the trail, its exports, and the signed review
    path("audit/", audit.audit_trail, name="audit_trail"),
    path("audit/export.csv", audit.audit_export_csv, name="audit_export_csv"),
    path("audit/export.pdf", audit.audit_export_pdf, name="audit_export_pdf"),
    path("audit/review/", audit.audit_review, name="audit_review"),
]
