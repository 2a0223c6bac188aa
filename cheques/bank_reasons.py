"""The bank's reason codes for a rejected or returned transfer (ISO 20022 external status
reason codes, as SEPA banks use them in pain.002 status reports and camt returns), in the
words of the people who read them, and whether the fix is new bank details.

One place for them: the status page of a batch, the statement, the e-mail to the place
manager and the API all say the reason through `label`.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

REASONS = {
    "AC01": gettext_lazy("IBAN incorrect"),
    "AC04": gettext_lazy("compte clôturé"),
    "AC06": gettext_lazy("compte bloqué"),
    "AC13": gettext_lazy("compte d’un type qui ne peut recevoir ce virement"),
    "AG01": gettext_lazy("opération interdite sur ce compte"),
    "AG02": gettext_lazy("code d’opération invalide"),
    "AM04": gettext_lazy("provision insuffisante sur le compte de l’opérateur"),
    "AM05": gettext_lazy("virement en double"),
    "BE04": gettext_lazy("adresse du bénéficiaire manquante ou incorrecte"),
    "BE05": gettext_lazy("émetteur du virement non reconnu"),
    "CNOR": gettext_lazy("banque du bénéficiaire injoignable"),
    "DNOR": gettext_lazy("banque de l’opérateur injoignable"),
    "DUPL": gettext_lazy("virement en double"),
    "ED05": gettext_lazy("règlement interbancaire en échec"),
    "FF01": gettext_lazy("format du fichier invalide"),
    "FOCR": gettext_lazy("retour à la demande de l’opérateur"),
    "MD07": gettext_lazy("titulaire du compte décédé"),
    "MS02": gettext_lazy("refus du bénéficiaire, sans motif précisé"),
    "MS03": gettext_lazy("motif non précisé par la banque"),
    "NARR": gettext_lazy("motif précisé en clair par la banque"),
    "RC01": gettext_lazy("BIC incorrect"),
    "RR01": gettext_lazy("identification du compte de l’opérateur manquante"),
    "RR02": gettext_lazy("nom ou adresse de l’opérateur manquant"),
    "RR03": gettext_lazy("nom ou adresse du bénéficiaire manquant"),
    "RR04": gettext_lazy("motif réglementaire"),
    "TM01": gettext_lazy("fichier reçu après l’heure limite"),
}

# The reasons whose fix is on the structure's side: its bank details must change before a
# new transfer is tried.
BANK_DETAILS_REASONS = frozenset(
    {"AC01", "AC04", "AC06", "AC13", "AG01", "BE04", "MD07", "RC01", "RR03"})


def label(code):
    """The reason in French (« AC04 — compte clôturé »); an unknown code is shown as is."""
    code = (code or "").strip().upper()
    if not code:
        return _("motif non communiqué par la banque")
    reason = REASONS.get(code)
    if reason is None:
        return _("%(code)s — motif bancaire non répertorié") % {"code": code}
    return f"{code} — {reason}"


def is_about_bank_details(code):
    return (code or "").strip().upper() in BANK_DETAILS_REASONS
