"""Who may do what with PPA contracts (spec 3.1 RBAC; docs/decisions/0011-ppa-contracts.md)."""

from __future__ import annotations

READ = "scenarios:read"  # list and read contracts and valuations: every role
WRITE = "scenarios:write"  # create and change contracts: traders and admins
DELETE = "scenarios:delete"  # delete contracts (with their valuations): traders and admins
RUN = "scenarios:run"  # value a contract: analysts, traders and admins
