"""Demo accounts: one organisation of each kind and one user per role (password = user name)."""

from django.db import transaction

from .models import Membership, Organisation, Role, User

ORGANISATIONS = {
    "operator": dict(kind=Organisation.Kind.OPERATOR, name="Opérateur #APTIC",
                     siret="81234567600017", email="contact@aptic.example"),
    "funder": dict(kind=Organisation.Kind.FUNDER, name="Département de la Gironde",
                   siret="22330001300016", email="inclusion-numerique@gironde.example"),
    "prescriber": dict(kind=Organisation.Kind.PRESCRIBER, name="CCAS de Bordeaux",
                       siret="79012345900014", email="ccas@bordeaux.example"),
    "structure": dict(kind=Organisation.Kind.STRUCTURE, name="Association Clic & Lien",
                      siret="44312345000019", email="bonjour@clicetlien.example"),
}

USERS = [
    # (user name, first name, last name, organisation key, role)
    ("operateur", "Olivia", "Opératrice", "operator", Role.OPERATOR_STAFF),
    ("financeur", "François", "Financeur", "funder", Role.FUNDER_MANAGER),
    ("prescripteur", "Pauline", "Prescriptrice", "prescriber", Role.PRESCRIBER),
    ("gestionnaire", "Gaston", "Gestionnaire", "structure", Role.PLACE_MANAGER),
    ("mediateur", "Maya", "Médiatrice", "structure", Role.MEDIATOR),
]


@transaction.atomic
def load_accounts():
    """Create or refresh the demo accounts; running it twice changes nothing."""
    accounts = {}
    for key, fields in ORGANISATIONS.items():
        accounts[key], _ = Organisation.objects.get_or_create(
            siret=fields["siret"], defaults=fields
        )
    if accounts["prescriber"].funder_id != accounts["funder"].pk:
        accounts["prescriber"].funder = accounts["funder"]
        accounts["prescriber"].save(update_fields=["funder"])
    for username, first_name, last_name, org_key, role in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                email=f"{username}@demo.aptic.example", password=username, username=username,
                first_name=first_name, last_name=last_name,
                is_staff=role == Role.OPERATOR_STAFF, is_superuser=role == Role.OPERATOR_STAFF,
            )
        Membership.objects.get_or_create(user=user, organisation=accounts[org_key], role=role)
        accounts[username] = user
    return accounts
