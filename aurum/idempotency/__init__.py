"""Stored answers of requests sent with an ``Idempotency-Key`` (decision 0027): one row per (credential, key)
in the tenant's schema, leased while the first request runs, holding its answer for 24 hours after. The HTTP
side (header, fingerprint, the view mixin) is ``aurum.api.idempotency``."""
