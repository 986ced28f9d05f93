"""The DATABASE_URL of this test run's database, for the product's own processes that a test
starts (a server, a worker): the run's URL, every option kept, naming pytest-django's test
database."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from carloan.service_urls import database_url_with_name


def this_test_database_url() -> str:
    return database_url_with_name(settings.DATABASE_URL, connection.settings_dict["NAME"])
