"""A structure's bank details: where its reimbursements are paid by SEPA transfer.

One rule for the bank-details form, the qualification file and the payment batch: an IBAN
that schwifty accepts, a BIC that schwifty accepts, of the IBAN's country, and the holder's
name as on the bank statement (at least two characters). The form shows each problem next to
its field (`DomainError.detail`, with `extra["field"]`); lists of structures that cannot be
paid give the short reason of `payable` instead.
"""

from typing import NamedTuple

import schwifty
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schwifty import exceptions as iban_errors

from aptic.errors import DomainError

IBAN_ERRORS = {
    iban_errors.InvalidChecksumDigits: gettext_lazy(
        "la clé de contrôle ne correspond pas : un chiffre est probablement mal recopié"),
    iban_errors.InvalidLength: gettext_lazy("la longueur ne correspond pas au pays"),
    iban_errors.InvalidCountryCode: gettext_lazy(
        "le code pays (2 lettres au début) est inconnu"),
    iban_errors.InvalidStructure: gettext_lazy("la structure ne correspond pas au pays"),
}
# What a statement or a payment batch says of a structure that cannot be paid, by code.
SHORT_REASONS = {
    "no_bank_details": gettext_lazy("Coordonnées bancaires absentes."),
    "invalid_iban": gettext_lazy("IBAN absent ou invalide."),
    "invalid_bic": gettext_lazy("BIC absent ou invalide."),
    "no_account_holder": gettext_lazy("Titulaire du compte absent."),
}


class BankDetails(NamedTuple):
    iban: str
    bic: str
    holder: str


def clean_iban(value):
    """The IBAN without spaces, in capitals; DomainError saying what is wrong otherwise."""
    try:
        return schwifty.IBAN(value or "").compact
    except (iban_errors.SchwiftyException, ValueError) as error:
        raise DomainError("invalid_iban", _("IBAN invalide : %(reason)s.")
                          % {"reason": _iban_reason(error)}, field="iban") from error


def _iban_reason(error):
    for kind, reason in IBAN_ERRORS.items():
        if isinstance(error, kind):
            return reason
    return _("format non reconnu")


def format_iban(value):
    """An IBAN as people read and copy it, in groups of four (« FR76 3000 6000 0112 3456
    7890 189 »): the one way pages, PDFs and forms show an IBAN. Files for banks keep the
    compact form (`clean_iban`)."""
    compact = "".join((value or "").split()).upper()
    return " ".join(compact[start:start + 4] for start in range(0, len(compact), 4))


def clean_bic(value):
    try:
        return schwifty.BIC(value or "").compact
    except (iban_errors.SchwiftyException, ValueError) as error:
        raise DomainError("invalid_bic", _(
            "BIC invalide : 8 ou 11 caractères (4 lettres de banque, 2 de pays, 2 de lieu, "
            "éventuellement 3 d’agence)."), field="bic") from error


def check_countries(iban, bic):
    """A BIC of another country than the IBAN's is a copying mistake."""
    if iban[:2] != bic[4:6]:
        raise DomainError("invalid_bic", _(
            "Le BIC (pays %(bic)s) ne correspond pas au pays de l’IBAN (%(iban)s).")
            % {"bic": bic[4:6], "iban": iban[:2]}, field="bic")


def clean_holder(value):
    holder = " ".join((value or "").split())
    if len(holder) < 2:
        raise DomainError("no_account_holder", _("Indiquez le titulaire du compte."),
                          field="account_holder")
    return holder


def validate(iban, bic, holder):
    """The checked BankDetails; DomainError for the first problem, in the form's order."""
    if not (iban or bic or holder):
        raise DomainError("no_bank_details", SHORT_REASONS["no_bank_details"])
    iban, bic = clean_iban(iban), clean_bic(bic)
    check_countries(iban, bic)
    return BankDetails(iban, bic, clean_holder(holder))


def are_valid(profile):
    """True when a StructureProfile (or None) holds bank details a transfer can be paid to."""
    try:
        payable(profile)
    except DomainError:
        return False
    return True


def payable(profile):
    """The BankDetails a transfer to the structure of `profile` (or None) is paid to;
    DomainError with the short reason that lists of blocked structures show otherwise."""
    try:
        if profile is None:
            return validate("", "", "")
        return validate(profile.iban, profile.bic, profile.account_holder)
    except DomainError as error:
        raise DomainError(error.code, SHORT_REASONS[error.code]) from None
