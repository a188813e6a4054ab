from django.urls import path

from apps.curves.api.views import CurveLineageApi

urlpatterns = [
    path("curves/<str:curve_key>/lineage", CurveLineageApi.as_view(), name="curve-lineage"),
]
