from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChequesConfig(AppConfig):
    name = "cheques"
    verbose_name = _("Chèques")

    def ready(self):
        from PIL import Image

        # The admin runs as SimpleAdminConfig (django-leaflet's admin needs GDAL, which we do
        # not install), so each app registers its own admin classes here.
        # The domain sends its tasks by name (aptic.celery.send): register them.
        from . import (
            admin,  # noqa: F401
            tasks,  # noqa: F401
        )
        from .logos import MAX_PIXELS

        # Pillow's decompression-bomb guard, set explicitly for the whole process: it refuses
        # to decode more than twice this many pixels, whoever asks (a logo, a bitmap inside
        # an SVG that WeasyPrint draws). cheques.logos refuses and scales down long before.
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
