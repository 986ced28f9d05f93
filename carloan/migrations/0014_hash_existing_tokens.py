"""Tokens made before (DRF's, kept in clear) become hashed API tokens, and the clear ones are
deleted: a client keeps working with the token it has, and no token is stored any more."""

import datetime as dt
import hashlib

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("carloan", "ApiToken")
    now = timezone.now()
    for token in Token.objects.all():
        ApiToken.objects.get_or_create(
            key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            defaults={
                "user_id": token.user_id,
                "name": "Token made before hashing",
                "prefix": token.key[:7],
                "created_at": token.created,
                "expires_at": now + dt.timedelta(days=90),
            },
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("carloan", "0013_api_tokens"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
