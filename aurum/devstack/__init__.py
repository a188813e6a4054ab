"""The embedded stack: a private Postgres cluster and Redis under ``var/``, for ``make demo`` and
``make test`` on a machine that has only Python.

Given ``DATABASE_URL`` / ``REDIS_URL``, those are used instead.
"""
