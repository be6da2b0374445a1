import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from chatbot.routing import websocket_urlpatterns  # noqa: E402

# A self-hosted install is often one process with no web server in front: serve static
# files from Django unless a deployment says a proxy does it.
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

if settings.INFERENCE_MODE == "inline" and settings.WARMUP_ON_START:
    # Embedded mode: load the models in the background now, so the first customer does
    # not wait for them, then answer what a previous run left unanswered.
    from chatbot.watchdog import start_embedded_in_background  # noqa: E402

    start_embedded_in_background()
