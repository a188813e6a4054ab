from django.urls import path

from apps.curves.api import dimensions, v1

urlpatterns = [
    path("curves", v1.CurvesV1Api.as_view(), name="v1-curves"),
    path("curves/diff", v1.CurveDiffV1Api.as_view(), name="v1-curves-diff"),
    path("curves/strips", v1.CurveStripsV1Api.as_view(), name="v1-curves-strips"),
    path("metadata/dimensions", dimensions.DimensionsV1Api.as_view(), name="v1-dimensions"),
]
