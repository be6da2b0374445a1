"""The agent console page and its small JSON lookups. Thin: check, call, return."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents import availability, kb
from agents.models import CannedReply

MAX_QUERY_CHARS = 200


def agent_required(view):
    """Signed-in members of the Agents group only; anyone else signed in gets a 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not availability.is_agent(request.user):
            return render(request, "agents/not_an_agent.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@agent_required
def console_page(request: HttpRequest) -> HttpResponse:
    return render(request, "agents/console.html", {"max_chars": settings.MAX_MESSAGE_CHARS})


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY_CHARS]


@require_GET
@agent_required
def canned_search(request: HttpRequest) -> JsonResponse:
    q = _query(request)
    qs = CannedReply.objects.all()
    for word in q.split():
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return JsonResponse(
        {
            "results": [
                {"id": r.pk, "title": r.title, "body": r.body, "language": r.language}
                for r in qs[:20]
            ]
        }
    )


@require_GET
@agent_required
def kb_search(request: HttpRequest) -> JsonResponse:
    q = _query(request)
    try:
        results = kb.search(q)
    except TimeoutError:
        return JsonResponse({"error": {"code": "busy", "detail": "Search timed out."}}, status=503)
    return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})
