from django.urls import path

from apps.ppa.api import v2

urlpatterns = [
    path("ppa/contracts", v2.ContractListV2Api.as_view(), name="ppa-contracts"),
    path("ppa/contracts/<str:contract_id>", v2.ContractDetailV2Api.as_view(), name="ppa-contract"),
    path(
        "ppa/contracts/<str:contract_id>/valuations",
        v2.ContractValuationListV2Api.as_view(),
        name="ppa-valuations",
    ),
    path(
        "ppa/contracts/<str:contract_id>/valuations/<str:valuation_id>",
        v2.ContractValuationDetailV2Api.as_view(),
        name="ppa-valuation",
    ),
]
