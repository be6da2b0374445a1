"""Thin HTTP views: parse, check, call one function, return."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.static import serve
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chatbot import inference
from chatbot.conversations import MessageRejected, validate_text

MAX_BODY_BYTES = 64 * 1024


@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    return render(request, "chat.html", {
        "embed": request.GET.get("embed") == "1",
        "max_chars": settings.MAX_MESSAGE_CHARS,
    })


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail}}, status=status)


@csrf_exempt  # a JSON API for other programs; it changes nothing and uses no cookies
@require_POST
def api_ask(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return _error(413, "body_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        return _error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(payload, dict) or "question" not in payload:
        return _error(400, "invalid_request", 'Send {"question": "..."}.')
    try:
        question = validate_text(payload["question"])
    except MessageRejected as exc:
        return _error(400, exc.code, exc.detail)
    try:
        return JsonResponse(inference.ask(question), json_dumps_params={"ensure_ascii": False})
    except TimeoutError:
        return _error(503, "busy", "The answering service did not reply in time.")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the web process and its database (models are checked by workers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "mode": "scaled" if settings.SCALED else "embedded",
                         "inference": settings.INFERENCE_MODE})


DEMO_SITE_ROOT = settings.BASE_DIR / "faq_ingest" / "demo_site"


@require_GET
def demo_site(request: HttpRequest, path: str) -> HttpResponse:
    return serve(request, path or "index.html", document_root=DEMO_SITE_ROOT)
