"""The Celery application (`carloan.celery:app`), on the Redis broker named by the settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carloan.settings")

app = Celery("carloan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
