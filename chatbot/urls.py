from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from chatbot import views

urlpatterns = [
    path("", views.chat_page, name="chat"),
    path("api/v1/ask", views.api_ask, name="api-ask"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/pool", views.healthz_pool, name="healthz-pool"),
    path("admin/", admin.site.urls),
    path("agent/", include("agents.urls")),
]

if settings.DEMO_SITE:
    # The bundled fictional help center, served by the app so citation links keep working.
    urlpatterns.append(re_path(r"^demo-help/(?P<path>.*)$", views.demo_site, name="demo-site"))
