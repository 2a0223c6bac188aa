from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aptic.home import Action
from aptic.models import Role
from aptic.permissions import PLACE_ROLES, is_operator, organisations_for, roles_of


def actions(user):
    """Home-page actions of the cheques app for `user` (see aptic.home)."""
    found = []
    roles = roles_of(user)
    operator = is_operator(user)
    if operator:
        found.append(Action(_("Tableau de bord de l’opérateur"), reverse("operator-dashboard"),
                            _("Files d’attente, relevés, virements, signaux de fraude."),
                            short=_("Tableau de bord")))
        found.append(Action(_("Commandes à valider"), reverse("order-queue"),
                            _("Validez ou refusez les commandes des financeurs.")))
        found.append(Action(_("Toutes les commandes"), reverse("order-list"),
                            _("Suivi des commandes, de l’émission et de la validité."),
                            short=_("Commandes")))
    if Role.FUNDER_MANAGER in roles:
        found.append(Action(_("Commander des chèques"), reverse("order-new"),
                            _("Carnets, valeur, validité, restrictions : prix affiché en "
                              "direct."), short=_("Commander")))
        found.append(Action(_("Mes commandes"), reverse("order-list"),
                            _("L’état de vos commandes et de leurs chèques.")))
        found.append(Action(_("Tableau de bord"), reverse("funder-dashboard"),
                            _("Usage des chèques, montants, lieux, profils des bénéficiaires.")))
    if operator or roles & {Role.FUNDER_MANAGER, Role.PRESCRIBER}:
        found.append(Action(_("Remettre un carnet"), reverse("booklet-distribute"),
                            _("Enregistrez la remise d’un carnet à un bénéficiaire."),
                            short=_("Remettre un carnet")))
    if operator or Role.FUNDER_MANAGER in roles:
        found.append(Action(_("Annuler un carnet ou un chèque"), reverse("booklet-cancel"),
                            _("Carnet perdu ou volé, chèque isolé."), short=_("Annuler")))
    if organisations_for(user, *PLACE_ROLES).exists():
        found.append(Action(_("Encaisser des chèques"), reverse("redemption-scan"),
                            _("Scannez ou saisissez les chèques remis par un bénéficiaire."),
                            short=_("Encaisser")))
        found.append(Action(_("Historique des encaissements"), reverse("redemption-history"),
                            _("Les chèques encaissés dans vos lieux, avec export CSV."),
                            short=_("Historique")))
    if operator or Role.PLACE_MANAGER in roles:
        found.append(Action(_("Remboursement des lieux"), reverse("reimbursement-home"),
                            _("Relevés de remboursement (PDF, CSV) et virements SEPA."),
                            short=_("Remboursements")))
    return found
