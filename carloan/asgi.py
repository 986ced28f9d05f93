"""The ASGI application (`carloan.asgi:application`): HTTP through Django, WebSockets through
Channels with one authentication and origin check around every consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carloan.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from carloan.middleware import BodySizeLimit  # noqa: E402
from carloan.realtime import socket_application  # noqa: E402
from carloan.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized bodies are refused (413) before Django spools them.
        "http": BodySizeLimit(django_asgi_app),
        "websocket": socket_application(URLRouter(websocket_urlpatterns)),
    }
)
