"""Shared set-up of the reimbursement, SEPA and ledger tests."""

from cheques import redemption
from places.models import StructureProfile
from tests.cheques.redemption_fixtures import codes_of

SERVICE = "acces-poste"
IBAN_A = "FR7630006000011234567890189"
BIC_A = "AGRIFRPP"
IBAN_B = "DE89370400440532013000"
BIC_B = "COBADEFFXXX"


def bank(structure, iban=IBAN_A, bic=BIC_A, holder=None):
    profile, _ = StructureProfile.objects.get_or_create(organisation=structure)
    profile.iban, profile.bic = iban, bic
    profile.account_holder = structure.name if holder is None else holder
    profile.save()
    return profile


def redeem(order, user, place, count, *, skip=0, now=None, service=SERVICE):
    """Redeem `count` cheques of `order` at `place`, now or at the moment given."""
    codes = codes_of(order)[skip:skip + count]
    return redemption.redeem(user=user, place=place.pk, service=service, codes=codes,
                             now=now)
