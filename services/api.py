from django.db.models import Prefetch
from rest_framework import generics
from rest_framework.permissions import AllowAny

from .models import Category, Service
from .serializers import CategorySerializer


class NomenclatureView(generics.ListAPIView):
    """The active nomenclature: categories with their active services (paginated like every
    list of the API, though it fits in one page)."""

    permission_classes = [AllowAny]
    serializer_class = CategorySerializer

    def get_queryset(self):
        return Category.objects.active().prefetch_related(
            Prefetch("services", queryset=Service.objects.active(), to_attr="active_services")
        )
