"""Thin HTTP views: parse, check, call one function, return."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django.views.static import serve

from chatbot import inference, pool
from chatbot.conversations import MessageRejected, validate_text

MAX_BODY_BYTES = 64 * 1024


@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "chat.html",
        {
            "embed": request.GET.get("embed") == "1",
            "max_chars": settings.MAX_MESSAGE_CHARS,
        },
    )


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail}}, status=status)


@csrf_exempt  # a JSON API for other programs; it changes nothing and uses no cookies
def api_ask(request: HttpRequest) -> JsonResponse:
    # Checked here rather than with @require_POST so API clients get a JSON error body.
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "Use POST with a JSON body.")
        response["Allow"] = "POST"
        return response
    too_large = _error(
        413, "body_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return too_large
    try:
        body = request.body
    except RequestDataTooBig:  # Django's own cap, hit before ours could be checked
        return too_large
    if len(body) > MAX_BODY_BYTES:
        return too_large
    try:
        payload = json.loads(body or b"null")
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
    return JsonResponse(
        {
            "ok": True,
            "mode": "scaled" if settings.SCALED else "embedded",
            "inference": settings.INFERENCE_MODE,
        }
    )


@require_GET
def healthz_pool(request: HttpRequest) -> JsonResponse:
    """The inference pool: queue depth, replies in progress, live workers with their model,
    version and device (see docs/operations.md)."""
    return JsonResponse(pool.status())


DEMO_SITE_ROOT = settings.BASE_DIR / "faq_ingest" / "demo_site"


@require_GET
def demo_site(request: HttpRequest, path: str) -> HttpResponse:
    return serve(request, path or "index.html", document_root=DEMO_SITE_ROOT)
