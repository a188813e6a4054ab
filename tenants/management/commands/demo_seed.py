from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.demo import demo_json_path, demo_seed


class Command(BaseCommand):
    help = "Create (or reuse) the demo tenants, users and tokens, and write var/demo.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        out = demo_json_path()
        data = demo_seed(out=out, port=options["port"])
        self.stdout.write(self.style.SUCCESS(f"Demo ready — {out}"))
        self.stdout.write(
            f"  Platform admin: {data['admin_url']}  {data['platform_admin']['email']} / "
            f"{data['platform_admin']['password']}"
        )
        for schema, tenant in data["tenants"].items():
            self.stdout.write(f"  {tenant['name']}: {tenant['url']}")
            for user in (u for u in data["users"] if u["tenant"] == schema):
                self.stdout.write(
                    f"    {user['role']:8} {user['email']} / {user['password']}  token {user['token']}"
                )
