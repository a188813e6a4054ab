"""The Aurum project package.

The Celery app (``aurum.celery``) is loaded by Django at start-up (TenantsConfig) and found by
``celery -A aurum``; importing ``aurum`` itself loads nothing, so Django-free parts (the workbook parsers and
the curve schema they share with the lakehouse) stay Django-free.
"""
