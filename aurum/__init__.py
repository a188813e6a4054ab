"""The Aurum project package.

The Celery app (``aurum.celery``) is loaded by Django at start-up (TenantsConfig) and found by
``celery -A aurum``; importing ``aurum`` itself loads nothing, so Django-free parts (the workbook parsers and
the curve schema they share with the lakehouse) stay Django-free.

It sets one thing: the allocator Arrow uses in every Aurum process (decisions 0071 and 0072). Every entry
point (``aurum.wsgi``, ``aurum.asgi``, ``celery -A aurum``, ``python -m aurum.worker``, ``manage.py``) imports
this package before anything imports pyarrow, and Arrow reads ``ARROW_DEFAULT_MEMORY_POOL`` when it first
allocates. Left to its default (mimalloc), Arrow's pool reserves a 1 GiB arena advised for transparent huge
pages, which the kernel's khugepaged fills 2 MB range by 2 MB range: idle workers stepped ~14 MB twelve
minutes after start, and a web process kept 6-56 MB in it. A value already in the environment wins.
"""

import os as _os

_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
