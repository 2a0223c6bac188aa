from django.urls import path

from . import reporting_api

urlpatterns = [
    path("reporting/summary/", reporting_api.ReportingSummary.as_view(),
         name="api-reporting-summary"),
]
