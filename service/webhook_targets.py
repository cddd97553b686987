"""Where a webhook may send: an http(s) URL whose host resolves only to public addresses
(unless private targets are allowed), checked when the webhook is saved and again, against
the addresses actually connected to, at every delivery (a DNS answer may change)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

# Shared address space and metadata services are not covered by `is_private` everywhere.
_ALSO_REFUSED = [ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("fd00:ec2::/32")]
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(ValueError):
    """A URL Broadsheet will not send to; the message says why, for people."""


@dataclass(frozen=True)
class Target:
    """A URL and the address to connect to for it."""

    url: str
    scheme: str
    host: str  # as written (a name, or an address without brackets)
    port: int
    address: str  # the resolved IP address delivered to


def is_refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in _ALSO_REFUSED)
    )


def parse(url: str, *, allow_http: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable webhook URL; TargetRefused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("Not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an absolute http(s) URL.")
    if parts.scheme == "http" and not allow_http:
        raise TargetRefused("Use https: plain http is refused in production.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Credentials in the URL are not accepted; use the signature.")
    if parts.fragment:
        raise TargetRefused("A webhook URL has no #fragment.")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default


async def resolve(url: str, *, allow_http: bool, allow_private: bool) -> Target:
    """Check `url` and resolve its host; refuse private, loopback, link-local and metadata
    addresses unless `allow_private`. Every address the name has must be acceptable, so a
    name cannot smuggle a private address in beside a public one."""
    scheme, host, port = parse(url, allow_http=allow_http)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        raise TargetRefused(f"The host {host!r} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"The host {host!r} does not resolve.")
    if not allow_private and any(is_refused_address(a) for a in addresses):
        raise TargetRefused(
            f"The host {host!r} resolves to a private, loopback, link-local or metadata "
            "address; webhooks only go to public addresses."
        )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
