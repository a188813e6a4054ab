from django.urls import include, path

from apps.portal.home import home_view
from apps.portal.views import login_view, logout_view

urlpatterns = [
    path("", home_view, name="portal-home"),
    path("login/", login_view, name="portal-login"),
    path("logout/", logout_view, name="portal-logout"),
    path("", include("apps.portal.urls_work")),
]
