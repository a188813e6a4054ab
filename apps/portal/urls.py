from django.urls import include, path

from apps.portal.curve_catalog import curve_catalog_view
from apps.portal.curve_detail import curve_detail_view
from apps.portal.curve_parts import curve_export_view, curve_history_view, curve_lineage_view
from apps.portal.home import home_view
from apps.portal.movers import curve_movers_view
from apps.portal.sso.signin import SsoCallbackView, SsoLoginView
from apps.portal.views import login_view, logout_view
from apps.portal.watchlist import (
    notices_read_view,
    watchlist_follow_view,
    watchlist_page_view,
    watchlist_panel_view,
)

urlpatterns = [
    path("", home_view, name="portal-home"),
    path("login/", login_view, name="portal-login"),
    path("logout/", logout_view, name="portal-logout"),
    path("sso/login/", SsoLoginView.as_view(), name="portal-sso-login"),
    path("sso/callback/", SsoCallbackView.as_view(), name="portal-sso-callback"),
    path("curves/", curve_catalog_view, name="portal-curves"),
    path("curves/movers/", curve_movers_view, name="portal-curve-movers"),
    path("curves/<str:curve_key>/", curve_detail_view, name="portal-curve"),
    path("curves/<str:curve_key>/lineage/", curve_lineage_view, name="portal-curve-lineage"),
    path("curves/<str:curve_key>/history/", curve_history_view, name="portal-curve-history"),
    path("curves/<str:curve_key>/export/", curve_export_view, name="portal-curve-export"),
    path("", include("apps.portal.urls_ops")),
    path("", include("apps.portal.urls_work")),
    path("watchlist/", watchlist_page_view, name="portal-watchlist"),
    path("watchlist/panel/", watchlist_panel_view, name="portal-watchlist-panel"),
    path("watchlist/notices/read/", notices_read_view, name="portal-notices-read"),
    path("watchlist/follow/<str:curve_key>/", watchlist_follow_view, name="portal-watchlist-follow"),
]
