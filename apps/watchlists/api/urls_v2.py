from django.urls import path

from apps.watchlists.api import v2

urlpatterns = [
    path("watchlist", v2.WatchlistV2Api.as_view(), name="watchlist"),
    path("watchlist/<str:curve_key>", v2.WatchlistItemV2Api.as_view(), name="watchlist-item"),
    path("notices", v2.NoticeListV2Api.as_view(), name="notices"),
    path("notices/read", v2.NoticeReadV2Api.as_view(), name="notices-read"),
    path("notices/<str:notice_id>", v2.NoticeDetailV2Api.as_view(), name="notice"),
]
