from django.core.management.base import BaseCommand, CommandError

from aptic.logins import find_account
from aptic.tokens import create_token


class Command(BaseCommand):
    help = (
        "Crée un jeton d’API personnel pour un utilisateur et l’affiche "
        "(il ne pourra plus être affiché ensuite)."
    )

    def add_arguments(self, parser):
        parser.add_argument("user", help="Identifiant ou adresse e-mail.")
        parser.add_argument("--name", default="ligne de commande", help="Nom du jeton.")

    def handle(self, *args, user, name, **options):
        found = find_account(user)
        if found is None:
            raise CommandError(f"Utilisateur inconnu : « {user} ».")
        _token, key = create_token(user=found, name=name)
        self.stdout.write(key)
