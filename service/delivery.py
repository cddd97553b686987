"""One delivery attempt: the event's body, signed as Standard Webhooks asks, POSTed to the
address its host resolved to (so a DNS answer cannot change between the check and the
connection), with no redirects followed and at most 1 kB of the answer kept."""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook as Signer

from service.webhook_targets import Target, TargetRefused, resolve

KEPT_RESPONSE_BYTES = 1024
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
USER_AGENT = "Broadsheet-Webhooks/1 (+https://www.standardwebhooks.com/)"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    status_code: int | None
    duration_ms: int
    error: str | None = None
    response: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks never to be called again."""
        return self.status_code == 410


def sign(secrets: list[str], *, message_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,…` per secret (two while a rotation overlaps)."""
    return " ".join(
        Signer(secret).sign(msg_id=message_id, timestamp=timestamp, data=body) for secret in secrets
    )


def _pinned(target: Target) -> tuple[str, str]:
    """(URL naming the resolved address, Host header naming the host as written)."""
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port == default else f"{host}:{target.port}"
    netloc = f"{address}:{target.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,12}", value):  # ASCII digits only: str.isdigit() accepts "²"
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


async def send(
    client: httpx.AsyncClient,
    *,
    url: str,
    message_id: str,
    body: str,
    secrets: list[str],
    time_limit: float,
    allow_http: bool,
    allow_private: bool,
) -> Outcome:
    """POST `body` to `url` once; never raises for anything the network or receiver does."""
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        target = await resolve(url, allow_http=allow_http, allow_private=allow_private)
    except TargetRefused as refused:
        return Outcome(None, elapsed(), error=str(refused))
    now = datetime.now(UTC)
    pinned_url, host_header = _pinned(target)
    headers = {
        "host": host_header,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sign(secrets, message_id=message_id, timestamp=now, body=body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    kept = bytearray()
    try:
        async with asyncio.timeout(time_limit):
            request = client.build_request(
                "POST", pinned_url, content=body.encode(), headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
    except TimeoutError:
        return Outcome(None, elapsed(), error=f"No answer within {time_limit:g} s.")
    except httpx.HTTPError as error:
        message = f"{type(error).__name__}: {error or 'no detail'}".replace("\x00", "\ufffd")
        return Outcome(None, elapsed(), error=message[:1000])
    # The status decides; the body is only kept (1 kB of it) for the log, within what is left
    # of the time limit: a receiver that answers and then trickles its body has answered.
    try:
        async with asyncio.timeout(max(time_limit - elapsed() / 1000, 0.1)):
            async for chunk in response.aiter_raw():
                kept += chunk
                if len(kept) >= KEPT_RESPONSE_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass
    finally:
        await response.aclose()
    # Kept as text in the log: PostgreSQL refuses NUL in text, so it is shown as U+FFFD.
    text = bytes(kept[:KEPT_RESPONSE_BYTES]).decode("utf-8", errors="replace")
    text = text.replace("\x00", "\ufffd")
    return Outcome(
        response.status_code,
        elapsed(),
        error=None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
        response=text or None,
        retry_after=retry_after(response.headers.get("retry-after")),
    )
