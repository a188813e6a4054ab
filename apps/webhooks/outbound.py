"""Outbound HTTP to receivers, safe against server-side request forgery.

The receiver's host is resolved here (``webhook_resolve``, the one place that asks DNS), every address is
checked, and the connection goes to a checked address (the URL carries the IP; ``Host`` and TLS SNI carry the
name, so certificates are verified against the name): nothing resolves the name again between the check and
the connect. Redirects are never followed (a 3xx is a failed delivery). A connect timeout, a total timeout
and a cap on the response body bound what one receiver can cost.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from django.conf import settings

from aurum.errors import InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata services (also covered by link-local and unique-local, named for clarity).
# Refused even where private addresses are allowed.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
USER_AGENT = "Aurum-Webhooks/1"


class AddressRefusedError(Exception):
    """The receiver's address is not one Aurum may connect to."""


@dataclass(frozen=True)
class SendResult:
    """What one POST came to: a status (any) or an error (no answer), the time, headers and the body read."""

    status_code: int | None
    duration_ms: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    error: str = ""
    refused: bool = False  # the address was refused: nothing was sent


def webhook_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the outside world: tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: str) -> str | None:
    """Why Aurum may not connect to ``address`` (None: it may): private, loopback, link-local, multicast,
    reserved, unspecified or a metadata address; an IPv4-mapped IPv6 address is judged by its IPv4 one.
    ``AURUM_WEBHOOK_ALLOW_PRIVATE`` (receivers on loopback in tests and the demo) lifts every refusal but the
    metadata addresses: their credentials are never a receiver's to have."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if settings.AURUM_WEBHOOK_ALLOW_PRIVATE:
        return None
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def url_check(url: str) -> None:
    """Refuse (400 problem on ``url``) a URL Aurum will not deliver to: not http(s), http where https is
    required, credentials in it, or a host that does not resolve or resolves to a refused address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError.field("url", "Give an absolute https:// URL, e.g. https://example.com/hooks.")
    if parts.scheme == "http" and not settings.AURUM_WEBHOOK_ALLOW_HTTP:
        raise InvalidInputError.field("url", "Webhook URLs must use https://.", code="https_required")
    if parts.username or parts.password:
        raise InvalidInputError.field(
            "url", "Leave credentials out of the URL; verify our signature instead."
        )
    try:
        port = _port(parts)
        addresses = webhook_resolve(parts.hostname, port)
    except (OSError, ValueError, UnicodeError):
        raise InvalidInputError.field(
            "url", f"The host {parts.hostname} does not resolve.", code="unresolvable_host"
        ) from None
    refusals = [reason for reason in map(address_refusal, addresses) if reason]
    if refusals or not addresses:
        raise InvalidInputError.field(
            "url",
            f"Aurum does not deliver to private or internal addresses ({'; '.join(refusals)}).",
            code="address_not_allowed",
        )


def _target(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL with a checked IP in place of the host, the Host header, the request extensions)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _port(parts)
    addresses = webhook_resolve(host, port)
    allowed = [address for address in addresses if address_refusal(address) is None]
    if not allowed:
        reasons = "; ".join(filter(None, map(address_refusal, addresses))) or "no address"
        raise AddressRefusedError(f"{host} is not a deliverable address ({reasons})")
    address = allowed[0]
    netloc_ip = f"[{address}]" if ":" in address else address
    default_port = port == (443 if parts.scheme == "https" else 80)
    netloc = netloc_ip if default_port else f"{netloc_ip}:{port}"
    host_header = host if default_port else f"{host}:{port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST ``body`` to ``url`` (to a checked address; no redirects), reading at most
    ``AURUM_WEBHOOK_RESPONSE_MAX_BYTES`` of the answer within ``AURUM_WEBHOOK_TIMEOUT_SECONDS`` in all."""
    started = time.monotonic()
    total = settings.AURUM_WEBHOOK_TIMEOUT_SECONDS
    cap = settings.AURUM_WEBHOOK_RESPONSE_MAX_BYTES

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target, host, extensions = _target(url)
    except AddressRefusedError as refused:
        return SendResult(status_code=None, duration_ms=took(), error=str(refused)[:500], refused=True)
    except (OSError, UnicodeError, ValueError) as exc:
        return SendResult(status_code=None, duration_ms=took(), error=f"DNS: {exc}"[:500])
    timeout = httpx.Timeout(total, connect=settings.AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS)
    request_headers = {
        **headers,
        **host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST", target, content=body, headers=request_headers, extensions=extensions
            ) as answer,
        ):
            read = bytearray()
            for chunk in answer.iter_bytes():
                read.extend(chunk)
                if len(read) >= cap or time.monotonic() - started > total:
                    break  # enough to show; the rest is not waited for
            return SendResult(
                status_code=answer.status_code,
                duration_ms=took(),
                headers=dict(answer.headers.items()),
                body=bytes(read[:cap]).decode("utf-8", errors="replace"),
            )
    except httpx.TimeoutException as exc:
        return SendResult(status_code=None, duration_ms=took(), error=f"timeout: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return SendResult(status_code=None, duration_ms=took(), error=f"{type(exc).__name__}: {exc}"[:500])
