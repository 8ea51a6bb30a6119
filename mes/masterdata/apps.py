from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    name = "mes.masterdata"
    label = "masterdata"
    verbose_name = "Master data"
