"""``manage.py erase_person EMAIL --staff STAFF_EMAIL``: pseudonymize a person everywhere (decision 0033)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.offboarding.erasure import person_erase
from aurum.errors import AurumError


class Command(BaseCommand):
    help = "Erase a person: their email pseudonymized in every schema, memberships removed, tokens revoked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--staff", required=True, help="The platform staff member doing it (email).")

    def handle(self, *args: Any, **options: Any) -> None:
        staff = User.objects.filter(email__iexact=options["staff"], is_staff=True, is_active=True).first()
        if staff is None:
            raise CommandError(f"{options['staff']} is not an active platform staff member.")
        try:
            report = person_erase(email=options["email"], staff=staff)
        except AurumError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
