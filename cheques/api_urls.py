from django.urls import include, path

from . import api

urlpatterns = [
    path("orders/", api.OrderListCreate.as_view(), name="api-orders"),
    path("orders/<int:pk>/", api.OrderDetail.as_view(), name="api-order"),
    path("orders/<int:pk>/approve/", api.OrderApprove.as_view(), name="api-order-approve"),
    path("orders/<int:pk>/reject/", api.OrderReject.as_view(), name="api-order-reject"),
    path("orders/<int:pk>/cheques/", api.OrderCheques.as_view(), name="api-order-cheques"),
    path("booklets/<str:number>/distribute/", api.BookletDistribute.as_view(),
         name="api-booklet-distribute"),
    path("booklets/<str:number>/cancel/", api.BookletCancel.as_view(),
         name="api-booklet-cancel"),
    path("cheques/<str:code>/", api.ChequeLookup.as_view(), name="api-cheque"),
    path("", include("cheques.redemption_api_urls")),
    path("", include("cheques.reporting_api_urls")),
    path("", include("cheques.print_api_urls")),
    path("", include("cheques.reimbursement_api_urls")),
]
