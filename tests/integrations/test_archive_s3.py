"""The archive's S3 code path against a local S3 peer: moto's server on 127.0.0.1 (a bucket with Object
Lock, one without), DATA_LAKE_URL=s3://bucket/prefix, the endpoint from AWS_ENDPOINT_URL."""

from __future__ import annotations

import datetime as dt
import json
import logging

import duckdb
import pytest

from integrations.archive import lake as lakes
from integrations.archive import selectors, services
from tests.conftest import require_service
from tests.integrations.archive_support import closed_traveler, photo_traveler, traveler  # noqa: F401 - fixtures
from tests.integrations.sync_support import free_port
from tests.tampering import as_superuser
from tests.travelers.conftest import shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(settings, monkeypatch, tmp_path):
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        require_service("moto[server] and boto3 are not installed (pip install -e '.[dev]')")
    monkeypatch.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)  # one line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATA_LAKE_STORAGE_OPTIONS", raising=False)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="lake", ObjectLockEnabledForBucket=True)
    client.create_bucket(Bucket="plain")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_LAKE_URL = "s3://lake/archive"
    try:
        yield client
    finally:
        server.stop()


def test_archive_to_s3_with_object_lock_reads_back_and_verifies(s3, shop, traveler, tmp_path):  # noqa: F811
    closed_ = closed_traveler(shop, traveler)
    record = services.traveler_archive(traveler_id=closed_.pk)
    closed_utc = closed_.closed_at.astimezone(dt.UTC)
    prefix = f"s3://lake/archive/travelers/site=WIC/year={closed_utc:%Y}/month={closed_utc:%m}/"
    assert record.uri == f"{prefix}{closed_.number}-{record.package_sha256[:12]}.tar"
    key = record.uri.removeprefix("s3://lake/")
    head = s3.head_object(Bucket="lake", Key=key)
    assert head["ContentLength"] == record.size and record.object_lock == "COMPLIANCE"
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].date() > record.retain_until  # kept to the end of that day

    # written once: a second run writes nothing; a lost index row finds the package again
    assert services.traveler_archive(traveler_id=closed_.pk).pk == record.pk
    as_superuser("DELETE FROM archive_archiverecord")  # the index row lost (a database restored from before)
    again = services.traveler_archive(traveler_id=closed_.pk)
    assert (again.uri, again.package_sha256) == (record.uri, record.package_sha256)
    listed = s3.list_objects_v2(Bucket="lake", Prefix="archive/travelers/")["Contents"]
    assert [o["Key"] for o in listed] == [key]

    assert services.archive_check(again) == []
    envelope = selectors.package_envelope(again)
    assert envelope["record"]["traveler"]["number"] == closed_.number

    # the Parquet index through fsspec, read by DuckDB (no httpfs extension needed)
    db = duckdb.connect()
    db.register_filesystem(lakes.Lake().fs)
    rows = db.sql(
        "SELECT traveler_number, serial_or_lot, package_uri, site FROM read_parquet("
        "'s3://lake/archive/index/travelers/*/*/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert rows == [(closed_.number, "SN-0001", record.uri, "WIC")]
    facts = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE superseded) FROM "
        "read_parquet('s3://lake/archive/facts/measurements/**/*.parquet')"
    ).fetchone()
    assert facts == (6, 1)


def test_bucket_without_object_lock_still_takes_the_package(s3, tmp_path):
    path = tmp_path / "p.tar"
    path.write_bytes(b"package bytes")
    lake = lakes.Lake("s3://plain/lake")
    stored = lake.put_once("travelers/x-0123456789ab.tar", path, retain_until=dt.date(2056, 1, 1))
    assert stored.created and stored.object_lock == "" and stored.uri == "s3://plain/lake/travelers/x-0123456789ab.tar"
    assert lake.put_once("travelers/x-0123456789ab.tar", path).created is False
    with lake.open(stored.uri) as f:
        assert f.read() == b"package bytes"
    json.dumps(stored.__dict__)  # plain data
