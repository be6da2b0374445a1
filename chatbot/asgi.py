import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from agents.routing import websocket_urlpatterns as agent_websockets  # noqa: E402
from chatbot.routing import websocket_urlpatterns  # noqa: E402

# A self-hosted install is often one process with no web server in front: serve static
# files from Django unless a deployment says a proxy does it.
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + agent_websockets))
        ),
    }
)

if settings.INFERENCE_MODE == "inline" and settings.WARMUP_ON_START:
    # Embedded mode: load the models in the background now, so the first customer does
    # not wait for them, then answer what a previous run left unanswered.
    from chatbot.watchdog import start_embedded_in_background  # noqa: E402

    start_embedded_in_background()

if settings.INGEST_RECOVER_ON_START:
    # The index is checked against the FAQ table and abandoned crawls/builds are closed,
    # in the background (embedded) or by an ingest worker (scaled); start-up never waits.
    from faq_ingest.recovery import start_background_recovery  # noqa: E402

    start_background_recovery()

if settings.SCHEDULER_IN_PROCESS:
    # Embedded mode has no Celery beat: the handoff timeouts (and any other periodic job
    # in CELERY_BEAT_SCHEDULE) run from one thread of this process.
    from chatbot.scheduler import start_in_process  # noqa: E402

    start_in_process()
