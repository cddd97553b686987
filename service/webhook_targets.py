"""Where a webhook may send: an http(s) URL whose host resolves only to public addresses
(unless private targets are allowed), checked when the webhook is saved and again, against
the addresses actually connected to, at every delivery (a DNS answer may change)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

# Ranges `is_global` lets through on some Python versions: shared address space, IETF
# protocol assignments (192.0.0.8 and friends), deprecated site-local IPv6, AWS's IPv6
# metadata address.
_ALSO_REFUSED = [
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",
        "192.0.0.0/24",
        "::/96",  # IPv4-compatible IPv6 (deprecated): ::127.0.0.1 reaches 127.0.0.1 via sit0
        "::ffff:0:0:0/96",  # SIIT's IPv4-translated addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "fec0::/10",
        "fd00:ec2::/32",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_TIMEOUT_SECONDS = 5.0


class TargetRefused(ValueError):
    """A URL Broadsheet will not send to; the message says why, for people."""


@dataclass(frozen=True)
class Target:
    """A URL and the address to connect to for it."""

    url: str
    scheme: str
    host: str  # as sent (an ASCII name, or an address without brackets)
    port: int
    address: str  # the resolved IP address delivered to


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64): each is
    where a packet may end up, so each must be acceptable too."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_refused_address(address: str) -> bool:
    """Whether `address` is anything but a public unicast address (checked with what it
    embeds, for IPv6)."""
    ip = ipaddress.ip_address(address)
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(_embedded(ip))
    return any(
        not candidate.is_global
        or candidate.is_multicast
        or any(candidate in network for network in _ALSO_REFUSED)
        for candidate in candidates
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
    try:
        # As it goes on the wire (IDNA for a name in another script), as httpx will send it.
        host = httpx.URL(url).raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        raise TargetRefused("The host name is not valid.") from None
    if not host:
        raise TargetRefused("Use an absolute http(s) URL.")
    if port == 0:
        raise TargetRefused("Port 0 is not a port anything listens on.")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, host, default if port is None else port


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
