from django.contrib import admin

from .models import Category, Service


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ["slug", "label", "default_cheques", "position", "active"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["label", "slug", "position", "active"]
    list_editable = ["position", "active"]
    inlines = [ServiceInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["label", "slug", "category", "default_cheques", "active"]
    list_filter = ["category", "active"]
    search_fields = ["label", "slug"]
