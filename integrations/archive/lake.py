"""The data lake, through fsspec: a local folder (default VAR_DIR/lake) or an S3-compatible bucket.

    DATA_LAKE_URL=""                      -> VAR_DIR/lake
    DATA_LAKE_URL=/srv/lake               -> that folder
    DATA_LAKE_URL=s3://bucket/lake        -> that bucket and prefix (s3fs; credentials and endpoint from the
                                             usual AWS_* variables, e.g. AWS_ENDPOINT_URL for MinIO/Ceph)

Packages are written once: `put_once` makes a package appear whole or not at all and never overwrites.
Locally it copies to lake/_tmp/ (same file system), fsyncs, then hard-links the final name (which fails
if the name exists: no overwrite) and removes the temporary name. On S3 a single PUT is atomic; it is
read back and its SHA-256 compared ("put then verify"), with S3 Object Lock (COMPLIANCE until the
retain-until date, or a legal hold for life-of-product records) when the bucket allows it.

Derived data (the Parquet index and facts) is replaced with `put_replace`: same atomicity, no lock.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import fsspec
from django.conf import settings
from fsspec.implementations.local import LocalFileSystem

from .errors import StoreUnavailable

log = logging.getLogger(__name__)

TMP_DIR = "_tmp"  # Hive-style readers (DuckDB, Spark, pyarrow) skip folders starting with "_"
CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe(value: str) -> str:
    """A path segment that is the same on every file system and object store."""
    return _SAFE.sub("_", str(value)) or "_"


def partition(site_code: str, closed_at: dt.datetime) -> str:
    """site=<code>/year=<yyyy>/month=<mm> of a traveler, by its closing time in UTC."""
    moment = closed_at.astimezone(dt.UTC)
    return f"site={safe(site_code)}/year={moment:%Y}/month={moment:%m}"


def package_key(site_code: str, closed_at: dt.datetime, number: str, sha256: str) -> str:
    return f"travelers/{partition(site_code, closed_at)}/{safe(number)}-{sha256[:12]}.tar"


def index_key(site_code: str, closed_at: dt.datetime, number: str) -> str:
    return f"index/travelers/{partition(site_code, closed_at)}/part-{safe(number)}.parquet"


def facts_key(site_code: str, closed_at: dt.datetime, number: str) -> str:
    return f"facts/measurements/{partition(site_code, closed_at)}/part-{safe(number)}.parquet"


def lake_url() -> str:
    return getattr(settings, "DATA_LAKE_URL", "") or str(Path(settings.VAR_DIR) / "lake")


def storage_options(url: str) -> dict:
    """fsspec options for the lake: DATA_LAKE_STORAGE_OPTIONS (JSON) when set; for S3, the endpoint of
    AWS_ENDPOINT_URL and no listing cache (another worker may have written a package a moment ago)."""
    protocol = fsspec.utils.get_protocol(url)
    if protocol in ("file", "local"):
        return {}
    raw = os.environ.get("DATA_LAKE_STORAGE_OPTIONS", "")
    options = json.loads(raw) if raw else {}
    if protocol in ("s3", "s3a"):
        options.setdefault("use_listings_cache", False)
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            options.setdefault("client_kwargs", {}).setdefault("endpoint_url", endpoint)
    return options


@dataclass(frozen=True)
class Stored:
    uri: str
    sha256: str
    size: int
    created: bool  # False: the package was already there (same name, so same content)
    object_lock: str = ""


def sha256_of(fileobj) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Lake:
    """One data lake (the configured one unless `url` is given)."""

    def __init__(self, url: str | None = None):
        self.url = url or lake_url()
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url, **storage_options(self.url))
        except ImportError as exc:  # s3fs missing: say what to install
            raise StoreUnavailable(f"the data lake {self.url} needs {exc.name or 'its fsspec driver'}") from exc
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"

    # --- Names ---------------------------------------------------------------------------------------

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def uri(self, key: str) -> str:
        """What ArchiveRecord.uri holds: an absolute path for a folder, s3://bucket/key for a bucket."""
        path = self.path(key)
        return path if self.local else self.fs.unstrip_protocol(path)

    def _fs_path(self, uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
        protocol = fsspec.utils.get_protocol(uri)
        if self.local and protocol in ("file", "local"):
            return self.fs, self.fs._strip_protocol(uri)
        if not self.local and protocol in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        ):
            return self.fs, self.fs._strip_protocol(uri)
        fs, path = fsspec.core.url_to_fs(uri, **storage_options(uri))
        return fs, path

    # --- Reading -------------------------------------------------------------------------------------

    def exists(self, uri: str) -> bool:
        fs, path = self._fs_path(uri)
        return fs.exists(path)

    def open(self, uri: str):
        """A binary, seekable file object of the object at `uri`."""
        fs, path = self._fs_path(uri)
        try:
            return fs.open(path, "rb")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {uri}: {exc}") from exc

    def size(self, uri: str) -> int:
        fs, path = self._fs_path(uri)
        return int(fs.info(path)["size"])

    def packages_of(self, site_code: str, closed_at: dt.datetime, number: str) -> list[str]:
        """URIs of the packages already written for this traveler (normally none or one)."""
        folder = self.path(f"travelers/{partition(site_code, closed_at)}")
        prefix = f"{safe(number)}-"
        try:
            names = self.fs.ls(folder, detail=False)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreUnavailable(f"cannot list {folder}: {exc}") from exc
        found = []
        for name in sorted(names):
            base = name.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith(prefix) and base.endswith(".tar") and len(base) == len(prefix) + 16:
                found.append(name if self.local else self.fs.unstrip_protocol(name))
        return found

    # --- Writing -------------------------------------------------------------------------------------

    def put_once(
        self, key: str, local_path: str | Path, *, retain_until: dt.date | None = None, lock: bool = True
    ) -> Stored:
        """Write the file at `local_path` under `key` unless something is there already; return where.

        `retain_until` (None: life of product) sets S3 Object Lock where the bucket supports it."""
        local_path = str(local_path)
        with open(local_path, "rb") as f:
            sha, size = sha256_of(f)
        final = self.path(key)
        try:
            if self.fs.exists(final):
                return Stored(self.uri(key), sha, size, created=False)
            if self.local:
                created = self._put_local(local_path, final, exclusive=True)
                return Stored(self.uri(key), sha, size, created=created)
            lock_mode = self._put_s3(local_path, final, retain_until=retain_until, lock=lock)
            self._verify_remote(final, sha, size)
            return Stored(self.uri(key), sha, size, created=True, object_lock=lock_mode)
        except (FileNotFoundError, PermissionError, ConnectionError, TimeoutError) as exc:
            raise StoreUnavailable(f"the data lake did not take {key}: {exc}") from exc
        except OSError as exc:
            raise StoreUnavailable(f"the data lake did not take {key}: {exc}") from exc

    def put_replace(self, key: str, data: bytes) -> str:
        """Write derived data (Parquet) under `key`, replacing what is there, whole or not at all."""
        final = self.path(key)
        try:
            if self.local:
                tmp = self._tmp_name(final)
                self.fs.makedirs(self.path(TMP_DIR), exist_ok=True)
                try:
                    self.fs.pipe_file(tmp, data)
                    self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                    os.replace(tmp, final)
                finally:
                    self._discard(tmp)
            else:
                self.fs.pipe_file(final, data)
        except OSError as exc:
            raise StoreUnavailable(f"the data lake did not take {key}: {exc}") from exc
        return self.uri(key)

    def remove(self, uri: str) -> None:
        fs, path = self._fs_path(uri)
        try:
            fs.rm_file(path)
        except FileNotFoundError:
            pass

    def sweep_temporary(self, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Remove temporary files a killed worker left in lake/_tmp (never visible as packages)."""
        if not self.local:
            return 0
        folder = Path(self.path(TMP_DIR))
        if not folder.is_dir():
            return 0
        limit = dt.datetime.now().timestamp() - older_than.total_seconds()
        removed = 0
        for entry in folder.iterdir():
            if entry.is_file() and entry.stat().st_mtime < limit:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    # --- Internals -----------------------------------------------------------------------------------

    def _tmp_name(self, final: str) -> str:
        return self.path(f"{TMP_DIR}/{uuid.uuid4().hex}-{final.rsplit('/', 1)[-1]}")

    def _discard(self, tmp: str) -> None:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass

    def _put_local(self, local_path: str, final: str, *, exclusive: bool) -> bool:
        self.fs.makedirs(self.path(TMP_DIR), exist_ok=True)
        tmp = self._tmp_name(final)
        try:
            self.fs.put_file(local_path, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            folder = final.rsplit("/", 1)[0]
            self.fs.makedirs(folder, exist_ok=True)
            created = self._commit(tmp, final)
            _fsync_dir(folder)
            return created
        finally:
            self._discard(tmp)

    def _commit(self, tmp: str, final: str) -> bool:
        """Give the finished temporary file its final name, never replacing an existing one."""
        try:
            os.link(tmp, final)  # atomic, and refuses an existing name
            return True
        except FileExistsError:
            return False  # another worker wrote it: the name is the content's hash, so it is the same
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
        if os.path.exists(final):  # a file system without hard links: check, then rename
            return False
        os.rename(tmp, final)
        return True

    def _put_s3(self, local_path: str, final: str, *, retain_until: dt.date | None, lock: bool) -> str:
        if lock:
            if retain_until is None:
                kwargs, mode = {"ObjectLockLegalHoldStatus": "ON"}, "LEGAL_HOLD"
            else:
                until = dt.datetime.combine(retain_until, dt.time(0, 0), tzinfo=dt.UTC) + dt.timedelta(days=1)
                kwargs, mode = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}, "COMPLIANCE"
            try:
                self.fs.put_file(local_path, final, **kwargs)
                return mode
            except (ConnectionError, TimeoutError):
                raise
            except OSError as exc:
                text = str(exc)
                if exc.errno not in (errno.EINVAL, errno.ENOSYS) and "lock" not in text.lower():
                    raise
                log.warning(
                    "archive: the bucket refused Object Lock; writing %s without it", final, extra={"error": text}
                )
        self.fs.put_file(local_path, final)
        return ""

    def _verify_remote(self, final: str, sha: str, size: int) -> None:
        with self.fs.open(final, "rb") as f:
            got_sha, got_size = sha256_of(f)
        if (got_sha, got_size) != (sha, size):
            raise StoreUnavailable(
                f"{final} reads back as {got_size} bytes sha256 {got_sha[:12]}…, not {size} bytes {sha[:12]}…"
            )
