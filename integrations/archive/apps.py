import logging

from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "integrations.archive"
    label = "archive"
    verbose_name = "Data-lake archive"

    def ready(self) -> None:
        from mes.compliance.signing import register_signable

        from .services import disposal_signed_content

        # Teaches the signature verifier how to rebuild what a disposal approval signed.
        register_signable("archive.archiverecord", disposal_signed_content)
        # bagit logs every file it moves and hashes at INFO: keep its warnings and errors only.
        logging.getLogger("bagit").setLevel(logging.WARNING)
