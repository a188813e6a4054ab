"""``python -m aurum.devstack.demo load [--days N] [--port P]``, and its parts ``… demo ingest [--days N]``,
``… demo feeds`` and ``… demo seed [--port P]``.

``load`` is what ``python -m aurum.devstack demo`` (``make demo``) runs, with the demo's environment: every
step in this one process (migrations, reference data, market data, feeds, seed), so Django starts once
instead of once per step (issue 14: ~5-10 s a start on 2 shared cores); the accounts are seeded on a thread
beside the market data. It prints ``MARKET_DATA_LOADED`` once the lakehouse is written, before the demo's
scenario run and PPA are made, so the web server and the worker can start warming meanwhile. By hand, the
settings default to a developer's (``aurum.settings.local``), as for manage.py.
"""

import argparse
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from aurum.devstack.demo.feeds import demo_feeds_load  # noqa: E402
from aurum.devstack.demo.ingest import demo_ingest  # noqa: E402
from aurum.devstack.demo.seed import demo_accounts_seed, demo_json_path, demo_seed  # noqa: E402
from aurum.devstack.demo.work import demo_work_seed  # noqa: E402
from tenants.models import Tenant  # noqa: E402

T = TypeVar("T")


def seed(port: int) -> None:
    credentials_print(demo_seed(out=demo_json_path(), port=port))


def credentials_print(data: dict[str, Any]) -> None:
    print(f"Demo ready — {demo_json_path()}")
    print(
        f"  Platform admin: {data['admin_url']}  {data['platform_admin']['email']} / "
        f"{data['platform_admin']['password']}"
    )
    for schema, tenant in data["tenants"].items():
        print(f"  {tenant['name']}: {tenant['url']}")
        for user in (u for u in data["users"] if u["tenant"] == schema):
            print(f"    {user['role']:8} {user['email']} / {user['password']}  token {user['token']}")


# The line ``load`` prints when the lakehouse holds the demo's market data (aurum/devstack/__main__.py waits
# for it before starting the web server).
MARKET_DATA_LOADED = "[demo] market data loaded"


def _closing_connection(function: Callable[..., T], **kwargs: Any) -> T:
    try:
        return function(**kwargs)
    finally:
        connection.close()


def load(days: int, port: int) -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", stdout=sys.stdout)
    # The tenants, users and tokens are made on a thread beside the market data: their passwords' hashing
    # (PBKDF2, ~0.6 s of CPU a user, without the GIL) takes the core the ingest leaves idle.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-accounts") as pool:
        accounts = pool.submit(_closing_connection, demo_accounts_seed, out=demo_json_path(), port=port)
        ingest(days)
        feeds()
        # A warehouse loaded before market.curve_latest existed gets it built once.
        call_command("curve_latest_rebuild", if_missing=True, stdout=sys.stdout)
        data = accounts.result()
    print(MARKET_DATA_LOADED, flush=True)
    demo_work_seed(tenant=Tenant.objects.select_related("plan").get(schema_name="acme"))
    # Last, so the credentials are what the terminal shows.
    credentials_print(data)


def ingest(days: int) -> None:
    demo_ingest(
        days=days,
        fixtures_dir=Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "eod",
        generated_dir=Path(settings.VAR_DIR) / "demo" / "generated-eod",
        stdout=sys.stdout,
    )


def feeds() -> None:
    catalog = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "aurum-original"
    demo_feeds_load(catalog_dir=catalog, stdout=sys.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m aurum.devstack.demo")
    sub = parser.add_subparsers(dest="command", required=True)
    loading = sub.add_parser("load", help="migrate, then load every part of the demo data (in one process)")
    loading.add_argument("--days", type=int, default=10, help="business days to load (0: every fixture day)")
    loading.add_argument("--port", type=int, default=8000)
    ingesting = sub.add_parser(
        "ingest", help="ingest the demo's EOD workbooks (fixture days, or generated ones)"
    )
    ingesting.add_argument("--days", type=int, default=10, help="business days to load (0: all fixture days)")
    sub.add_parser("feeds", help="load the feeds' catalog and replay the recorded provider responses")
    seeding = sub.add_parser(
        "seed", help="create (or reuse) the demo tenants, users and tokens; write demo.json"
    )
    seeding.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.command == "load":
        load(args.days, args.port)
    elif args.command == "ingest":
        ingest(args.days)
    elif args.command == "feeds":
        feeds()
    else:
        seed(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
