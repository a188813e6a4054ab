from django.urls import path

from apps.datasets.api import v2

urlpatterns = [
    path("datasets", v2.DatasetListV2Api.as_view(), name="datasets"),
    path("datasets/<path:dataset_id>", v2.DatasetDetailV2Api.as_view(), name="dataset"),
    path("backfills", v2.BackfillListV2Api.as_view(), name="backfills"),
    path("backfills/<int:backfill_id>", v2.BackfillDetailV2Api.as_view(), name="backfill"),
    path("backfills/<int:backfill_id>/retry", v2.BackfillRetryV2Api.as_view(), name="backfill-retry"),
    path("backfills/<int:backfill_id>/cancel", v2.BackfillCancelV2Api.as_view(), name="backfill-cancel"),
]
