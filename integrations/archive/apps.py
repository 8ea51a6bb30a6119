import logging

from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "integrations.archive"
    label = "archive"
    verbose_name = "Data-lake archive"

    def ready(self) -> None:
        from mes.compliance.checkpoints import register_store  # noqa: PLC0415 — app loading: registries of models
        from mes.compliance.signing import register_signable  # noqa: PLC0415 — app loading: imports models

        from .checkpoint_store import LakeCheckpointStore  # noqa: PLC0415 — app loading: imports models
        from .services import disposal_signed_content  # noqa: PLC0415 — app loading: imports models

        # The integrity checkpoints are written to (and read back from) the data lake.
        register_store(LakeCheckpointStore)
        # Teaches the signature verifier how to rebuild what a disposal approval signed.
        register_signable("archive.archiverecord", disposal_signed_content)
        # bagit logs every file it moves and hashes at INFO: keep its warnings and errors only.
        logging.getLogger("bagit").setLevel(logging.WARNING)
