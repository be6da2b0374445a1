from django.contrib.auth import views as auth_views
from django.urls import path

from agents import views

urlpatterns = [
    path("", views.console_page, name="agent-console"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="agents/login.html", redirect_authenticated_user=True
        ),
        name="agent-login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="agent-login"), name="agent-logout"),
    path("api/canned", views.canned_search, name="agent-canned"),
    path("api/kb", views.kb_search, name="agent-kb"),
]
