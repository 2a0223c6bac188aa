from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "places"
    verbose_name = _("Lieux")

    def ready(self):
        # The admin runs as SimpleAdminConfig (django-leaflet's admin needs GDAL, which we do
        # not install), so each app registers its own admin classes here.
        from . import admin  # noqa: F401
