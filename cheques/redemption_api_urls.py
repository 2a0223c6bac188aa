from django.urls import path

from . import redemption_api

urlpatterns = [
    path("redemptions/", redemption_api.RedemptionListCreate.as_view(), name="api-redemptions"),
    path("redemptions/<int:pk>/", redemption_api.RedemptionUndo.as_view(),
         name="api-redemption-undo"),
]
