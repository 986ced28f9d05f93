"""`manage.py createuser USERNAME --role manager [--department risk]`: a person for scripts and
first set-up (contract section 12). The password comes from `--password-env VAR` (an environment
variable: never on the command line, where `ps` shows it) or is asked for; Django's password rules
apply. An existing person gets the role, department and password given (`--update`)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from carloan.departments import DEPARTMENTS
from carloan.models import Profile
from carloan.roles import ROLES


class Command(BaseCommand):
    help = "Create a person with a role (viewer, department_head, manager) and a department."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--department", choices=DEPARTMENTS, default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env", help="Read the password from this environment variable."
        )
        parser.add_argument("--update", action="store_true", help="Change an existing person.")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        role, department = options["role"], options["department"]
        if role == "department_head" and not department:
            raise CommandError("A department head needs --department (marketing, risk or tech).")
        model = get_user_model()
        existing = model.objects.filter(username=username).first()
        if existing is not None and not options["update"]:
            raise CommandError(f"{username} exists already: add --update to change them.")
        password = self._password(options["password_env"])
        user = existing or model(username=username, email=options["email"])
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("The password is refused: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            if options["email"]:
                user.email = options["email"]
            user.is_active = True
            user.save()
            user.groups.set([Group.objects.get_or_create(name=role)[0]])
            Profile.objects.update_or_create(user=user, defaults={"department": department})
        what = "Updated" if existing else "Created"
        where = f" ({department})" if department else ""
        self.stdout.write(self.style.SUCCESS(f"{what} {username}: {role}{where}."))

    def _password(self, variable: str | None) -> str:
        if variable:
            value = os.environ.get(variable)
            if not value:
                raise CommandError(f"The environment variable {variable} is empty or unset.")
            return value
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
