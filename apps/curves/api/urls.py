from django.urls import path

from apps.curves.api import curve, dimensions, exports, v2

urlpatterns = [
    path("curves", v2.CurvesApi.as_view(), name="v2-curves"),
    path("curves/diff", v2.CurveDiffApi.as_view(), name="v2-curves-diff"),
    path("curves/strips", v2.CurveStripsApi.as_view(), name="v2-curves-strips"),
    path("curves/movers", v2.CurveMoversApi.as_view(), name="v2-curves-movers"),
    path("curves/export", exports.CurveExportApi.as_view(), name="v2-curves-export"),
    path("curves/<str:curve_key>", curve.CurveDetailApi.as_view(), name="v2-curve"),
    path("curves/<str:curve_key>/history", curve.CurveHistoryApi.as_view(), name="v2-curve-history"),
    path("metadata/dimensions", dimensions.DimensionsApi.as_view(), name="v2-dimensions"),
]
