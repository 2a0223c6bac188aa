"""Static files in production: hashed names from collectstatic's manifest.

Without a manifest (collectstatic never ran) the web server refuses to start, with one line
that says what to run; a file missing from the manifest (added after the last collectstatic)
is served under its plain name, with a warning, instead of failing every page that uses it.
"""

import logging
import sys

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False
    manifest_found = False

    def read_manifest(self):
        content = super().read_manifest()
        self.manifest_found = content is not None
        return content

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if self.manifest_found:  # with no manifest at all, ensure_collected says it once
                logger.warning("Static file %s is not in the manifest: run collectstatic.",
                               name)
            return name


def ensure_collected():
    """Called when the web server loads the application (aptic/wsgi.py)."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestStaticFilesStorage):
        return
    staticfiles_storage.hashed_files  # noqa: B018 - loads the manifest
    if not staticfiles_storage.manifest_found:
        sys.exit(f"Static files are not collected in STATIC_ROOT ({settings.STATIC_ROOT}): "
                 "run `python manage.py collectstatic --noinput` before starting the server.")
