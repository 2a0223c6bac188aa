"""French formats: Django's, with thousands set apart by a narrow no-break space
(« 100 000 »), as the Imprimerie nationale and our money formatter write them."""

from django.conf.locale.fr.formats import *  # noqa: F403

THOUSAND_SEPARATOR = "\u202f"
