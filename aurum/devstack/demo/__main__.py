"""``python -m aurum.devstack.demo ingest [--days N]``, ``… demo feeds`` and ``… demo seed [--port P]``.

Run by ``python -m aurum.devstack demo`` (``make demo``) with the demo's environment; by hand, the settings
default to a developer's (``aurum.settings.local``), as for manage.py.
"""

import argparse
import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
django.setup()

from django.conf import settings  # noqa: E402

from aurum.devstack.demo.feeds import demo_feeds_load  # noqa: E402
from aurum.devstack.demo.ingest import demo_ingest  # noqa: E402
from aurum.devstack.demo.seed import demo_json_path, demo_seed  # noqa: E402


def seed(port: int) -> None:
    out = demo_json_path()
    data = demo_seed(out=out, port=port)
    print(f"Demo ready — {out}")
    print(
        f"  Platform admin: {data['admin_url']}  {data['platform_admin']['email']} / "
        f"{data['platform_admin']['password']}"
    )
    for schema, tenant in data["tenants"].items():
        print(f"  {tenant['name']}: {tenant['url']}")
        for user in (u for u in data["users"] if u["tenant"] == schema):
            print(f"    {user['role']:8} {user['email']} / {user['password']}  token {user['token']}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m aurum.devstack.demo")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser(
        "ingest", help="ingest the demo's EOD workbooks (fixture days, or generated ones)"
    )
    ingest.add_argument("--days", type=int, default=10, help="business days to load (0: every fixture day)")
    sub.add_parser("feeds", help="load the feeds' catalog and replay the recorded provider responses")
    seeding = sub.add_parser(
        "seed", help="create (or reuse) the demo tenants, users and tokens; write demo.json"
    )
    seeding.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.command == "ingest":
        demo_ingest(
            days=args.days,
            fixtures_dir=Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "eod",
            generated_dir=Path(settings.VAR_DIR) / "demo" / "generated-eod",
            stdout=sys.stdout,
        )
    elif args.command == "feeds":
        catalog = Path(settings.BASE_DIR).parent / "shared" / "fixtures" / "aurum-original"
        demo_feeds_load(catalog_dir=catalog, stdout=sys.stdout)
    else:
        seed(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
