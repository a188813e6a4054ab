"""Scenario writes, one module per topic (callers import the module they need):

- ``inputs``: what a caller may ask for (curve selection, run options) and its validation;
- ``scenarios``: create, update, delete;
- ``budget``: the size of a run, refused at submit when over the budget;
- ``run_identity``: what makes two submissions the same run (input hash, request fingerprint, key checks);
- ``runs``: run submission (single and bulk, idempotent) and cancellation;
- ``lifecycle``: a run's state changes (events, finish, fail, re-queue);
- ``dispatch``: the per-plan dispatcher and the one way a run is handed to Celery;
- ``execution``: the worker's side (start, heartbeat, compute, memory check, retries, reproduce);
- ``commit``: staging a computed run's rows and the group commit into Iceberg;
- ``sweep``: the beat's housekeeping, tenant by tenant.

Every function runs in the tenant's schema (the request's or the task's); ``tenant`` is passed for its plan,
datasets and lakehouse namespace.
"""
