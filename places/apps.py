from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "places"
    verbose_name = _("Lieux")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        # The admin runs as SimpleAdminConfig (django-leaflet's admin needs GDAL, which we do
        # not install), so each app registers its own admin classes here.
        from . import admin  # noqa: F401
        from .models import Place
        from .search import places_changed

        # Cached answers of the public map (places/search.py) go stale with any place change.
        post_save.connect(places_changed, sender=Place, dispatch_uid="places-search-save")
        post_delete.connect(places_changed, sender=Place, dispatch_uid="places-search-delete")
        m2m_changed.connect(places_changed, sender=Place.services.through,
                            dispatch_uid="places-search-services")
