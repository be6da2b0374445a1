"""Settings for the in-process test suite: the embedded shape, with fast fakes for the
model backends. Tests that need the real models or services start app processes with
the real settings (see tests/services.py) or override these explicitly."""

import os
import tempfile

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="faqbot-tests-"))
os.environ.setdefault("CHATBOT_GENERATOR", "fake")
os.environ.setdefault("CHATBOT_EMBEDDER", "hashing")
os.environ.setdefault("CRAWLER_ALLOWED_PRIVATE_HOSTS", "127.0.0.1")
os.environ.setdefault("CHATBOT_INDEX_RELOAD_CHECK_S", "0")
for var in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(var, None)

from chatbot.settings import *  # noqa: E402,F403

# The start-up recovery thread of chatbot/asgi.py would share the test database with the
# test itself; the tests that need it start real server processes.
INGEST_RECOVER_ON_START = False
# In-process tests run the periodic jobs themselves when they mean to (no scheduler thread
# sweeping the test database behind their back). App processes the tests start keep the
# default: they read the environment, not this module.
SCHEDULER_IN_PROCESS = False
# In-process tests import chatbot.asgi; recovering replies and starting the pool watchdog
# there would touch the database outside any test. Tests of recovery run real processes.
RECOVER_ON_START = False
