"""The client's address, trusting proxy headers only as configured.

``AURUM_TRUSTED_PROXIES`` lists the networks (CIDRs) of the proxies in front of Aurum. ``X-Forwarded-For`` is
read right to left only while the hop that sent it is one of them: the first address not in a trusted
network is the client. With the default (no trusted proxies) the header is ignored and the client is
``REMOTE_ADDR``, so nobody can name their own address by sending the header.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's IP address ("" when unknown)."""
    peer = str(request.META.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(settings.AURUM_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        client = hop
        if not _trusted(hop, networks):
            break
    try:
        return str(ipaddress.ip_address(client))
    except ValueError:
        return peer
