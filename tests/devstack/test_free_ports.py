"""The throwaway stack asks for its ports together: two services told one port cannot both start (CI once gave
Postgres and Redis the same port, from two `bind(0)` calls in a row)."""

import socket

from aurum.devstack.services import free_ports


def test_ports_asked_for_together_are_distinct_and_free():
    ports = free_ports(32)

    assert len(set(ports)) == 32
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nothing holds it any more
