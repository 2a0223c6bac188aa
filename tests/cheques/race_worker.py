"""One competitor of the concurrency test, run in a spawned process.

Nothing from Django is imported at module level: a spawned process unpickles `race` by
importing this module before Django is set up."""

import random


def race(args):
    """One competitor, in a fresh process (spawned, so no connection is inherited)."""
    worker, database_url, user_id, place_id, codes, use_api = args
    import os

    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aptic.settings")
    import django

    django.setup()
    from django.db import connections
    from rest_framework.throttling import ScopedRateThrottle

    ScopedRateThrottle.THROTTLE_RATES = {**ScopedRateThrottle.THROTTLE_RATES,
                                         "redemption": "1000000/min"}
    from aptic.models import User
    from cheques import redemption
    from cheques.lifecycle import DomainError

    user = User.objects.get(pk=user_id)
    random.Random(worker).shuffle(codes)
    won, lost, other = 0, 0, []
    if use_api:
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(user)
    for code in codes:
        if use_api:
            response = client.post("/api/v1/redemptions/", {
                "codes": [code], "place": place_id, "service": "acces-poste"}, format="json")
            outcome = "won" if response.status_code == 201 else response.json().get("code")
        else:
            try:
                redemption.redeem(user=user, place=place_id, service="acces-poste",
                                  codes=[code])
                outcome = "won"
            except DomainError as error:
                outcome = error.code
        if outcome == "won":
            won += 1
        elif outcome == "already_redeemed":
            lost += 1
        else:
            other.append(outcome)
    connections.close_all()
    return won, lost, other
