"""The client's address (aptic.clients.client_ip): X-Forwarded-For is believed only as far as
the trusted proxies that wrote it, and DRF's throttles find the same address."""

import os
import subprocess
import sys

import pytest
from rest_framework.throttling import BaseThrottle

from aptic.clients import client_ip
from tests.conftest import ROOT

PROXY = "192.0.2.1"  # REMOTE_ADDR: the last hop, a proxy or the client itself


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, None, PROXY),
    (0, "198.51.100.7", PROXY),  # nobody vouches for the header: the client wrote it
    (1, None, PROXY),
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own entry comes first
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
    (3, "198.51.100.7, 10.0.0.2", "198.51.100.7"),
])
def test_the_client_is_as_many_hops_from_the_right_as_there_are_trusted_proxies(
    rf, trusted_proxies, proxies, forwarded, expected
):
    trusted_proxies(proxies)
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = rf.post("/connexion/", REMOTE_ADDR=PROXY, **headers)
    assert client_ip(request) == expected
    assert BaseThrottle().get_ident(request) == expected  # DRF's throttles agree


def proxies_setting(**env):
    code = ("import django; django.setup(); from django.conf import settings; "
            "from rest_framework.settings import api_settings; "
            "print(settings.TRUSTED_PROXIES, api_settings.NUM_PROXIES)")
    base = {k: v for k, v in os.environ.items() if k != "TRUSTED_PROXIES"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**base, "DJANGO_SETTINGS_MODULE": "aptic.settings",
                                          **env})


def test_no_proxy_is_trusted_unless_the_environment_says_so_and_drf_follows():
    assert proxies_setting().stdout.split() == ["0", "0"]
    assert proxies_setting(TRUSTED_PROXIES="1").stdout.split() == ["1", "1"]
    refused = proxies_setting(TRUSTED_PROXIES="-1")
    assert refused.returncode != 0 and "TRUSTED_PROXIES" in refused.stderr
