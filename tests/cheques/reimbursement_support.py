"""Shared set-up of the reimbursement, SEPA and ledger tests."""

import datetime

from django.utils import timezone

from cheques import redemption
from places.models import StructureProfile
from tests.cheques.redemption_fixtures import codes_of

SERVICE = "outils-atelier"
IBAN_A = "FR7630006000011234567890189"
BIC_A = "AGRIFRPP"
IBAN_B = "DE89370400440532013000"
BIC_B = "COBADEFFXXX"


def last_month(day=15, hour=12):
    """An aware datetime in the previous month (Europe/Paris)."""
    first = timezone.localdate().replace(day=1)
    previous = (first - datetime.timedelta(days=1)).replace(day=day)
    return timezone.make_aware(datetime.datetime.combine(previous, datetime.time(hour)))


def bank(structure, iban=IBAN_A, bic=BIC_A, holder=None):
    profile, _ = StructureProfile.objects.get_or_create(organisation=structure)
    profile.iban, profile.bic = iban, bic
    profile.account_holder = structure.name if holder is None else holder
    profile.save()
    return profile


def redeem(order, user, place, count, *, skip=0, now=None, service=SERVICE):
    codes = codes_of(order)[skip:skip + count]
    return redemption.redeem(user=user, place=place.pk, service=service, codes=codes,
                             now=now or last_month())
