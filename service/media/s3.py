"""Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2...), through
boto3, the AWS SDK.

boto3 rather than aiobotocore: its client belongs to no event loop, so there is nothing to
open and close per loop (an app, and each test's app, just holds it), and it follows botocore's
releases instead of pinning it to a narrow range. Its calls block, so each runs in a thread of
its own lane; one call is one request, and reads are rare (MediaFiles keeps the small files in
memory, and URLs are immutable, so CDNs keep the rest)."""

from __future__ import annotations

import base64
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from service.media.storage import IMMUTABLE
from service.offload import off_the_loop
from service.settings import Settings

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

# Requests in flight at once, per process: threads and pooled connections alike.
CONNECTIONS = 16
S3 = ThreadPoolExecutor(max_workers=CONNECTIONS, thread_name_prefix="media-s3")
# A name's bytes never change: whoever serves the bucket directly may cache them for good.
MISSING = {"NoSuchKey", "404"}
# One session for the process: it loads the S3 model once, so each further client takes
# milliseconds, not a quarter of a second. A session is not thread-safe; making clients is
# the only thing done with it.
_session = boto3.session.Session()
_session_lock = threading.Lock()


class S3Storage:
    """Objects in `bucket`, each name under `prefix`. Credentials given here, or else the
    standard AWS chain (AWS_* variables, ~/.aws, an instance or task role)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        config = Config(
            max_pool_connections=CONNECTIONS,
            retries={"mode": "standard"},
            # botocore's default since 1.36 (CRC32 headers on every upload) is refused by
            # several S3-compatible stores; put() sends Content-MD5 instead, which all check.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        with _session_lock:
            self.client: S3Client = _session.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """The bucket the BROADSHEET_MEDIA_S3_* settings name."""
        assert settings.media_s3_bucket
        return cls(
            settings.media_s3_bucket,
            prefix=settings.media_s3_prefix,
            endpoint_url=settings.media_s3_endpoint_url or None,
            region=settings.media_s3_region or None,
            access_key_id=settings.media_s3_access_key_id or None,
            secret_access_key=settings.media_s3_secret_access_key or None,
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        await off_the_loop(
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=data,
                ContentType=content_type,
                CacheControl=IMMUTABLE,
                ContentMD5=base64.b64encode(digest).decode(),
            ),
            lane=S3,
        )

    async def get(self, key: str) -> bytes | None:
        return await off_the_loop(self._read, self.prefix + key, lane=S3)

    def _read(self, name: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as error:
            # Without s3:ListBucket, S3 answers a missing name with AccessDenied: that stays
            # an error (a misconfiguration), not a 404.
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise
        with response["Body"] as body:
            return body.read()

    async def delete(self, key: str) -> None:
        # S3 answers 204 whether or not there was such an object.
        await off_the_loop(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key),
            lane=S3,
        )
