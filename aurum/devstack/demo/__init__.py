"""The demo's data: generated EOD workbooks, their ingestion, and the demo tenants, users and tokens.

Tooling for ``make demo`` only (run as ``python -m aurum.devstack.demo seed|ingest``), kept out of the
production packages.
"""
