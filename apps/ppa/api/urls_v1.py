from django.urls import path

from apps.ppa.api import v1

urlpatterns = [
    path("ppa/contracts", v1.ContractListV1Api.as_view(), name="v1-ppa-contracts"),
    path("ppa/contracts/<str:contract_id>", v1.ContractDetailV1Api.as_view(), name="v1-ppa-contract"),
    path(
        "ppa/contracts/<str:contract_id>/valuations",
        v1.ContractValuationsV1Api.as_view(),
        name="v1-ppa-contract-valuations",
    ),
    path("ppa/valuate", v1.ValuateV1Api.as_view(), name="v1-ppa-valuate"),
]
