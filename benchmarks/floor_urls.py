"""The framework's floor for benchmarks/redemption.py: a bare DRF view that does only the
conditional UPDATE of one cheque by code (no authentication, rule, audit or ledger), served
by the same gunicorn, settings and middleware as the product, beside the product's routes."""

from django.urls import path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aptic.urls import *  # noqa: F403 - the product's routes and error handlers
from aptic.urls import urlpatterns as product_urlpatterns
from cheques.models import Cheque

FLOOR_PATH = "bench/floor/"


class FloorRedeem(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def post(self, request):
        changed = Cheque.objects.filter(
            code=request.data.get("code", ""), state__in=Cheque.OPEN_STATES,
        ).update(state=Cheque.State.REDEEMED, state_changed_at=timezone.now())
        return Response({"redeemed": changed}, status=201 if changed else 409)


urlpatterns = [path(FLOOR_PATH, FloorRedeem.as_view()), *product_urlpatterns]
