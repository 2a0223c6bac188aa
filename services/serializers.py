from rest_framework import serializers

from .models import Category, Service


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["slug", "label", "default_cheques"]


class CategorySerializer(serializers.ModelSerializer):
    services = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["slug", "label", "standard_label", "services"]

    def get_services(self, category) -> list[dict]:
        return ServiceSerializer(category.active_services, many=True).data
