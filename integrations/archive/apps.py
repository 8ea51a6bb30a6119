from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "integrations.archive"
    label = "archive"
    verbose_name = "Data-lake archive"
