"""The production settings, plus the benchmark's floor view (benchmarks/floor_urls.py): used
by benchmarks/redemption.py only, never by the product."""

from aptic.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
