from django.apps import AppConfig


class AptiConfig(AppConfig):
    name = "aptic"
    verbose_name = "Comptes et journal"

    def ready(self):
        from . import (
            admin,  # noqa: F401  (SimpleAdminConfig: explicit registration)
            schema,  # noqa: F401  (OpenAPI extensions)
            tasks,  # noqa: F401  (sent by name: aptic.celery.send)
        )
