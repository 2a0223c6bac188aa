from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from rest_framework.authtoken.models import Token

from aptic.models import User


class Command(BaseCommand):
    help = "Affiche (en le créant au besoin) le jeton d’API d’un utilisateur."

    def add_arguments(self, parser):
        parser.add_argument("user", help="Identifiant ou adresse e-mail.")

    def handle(self, *args, user, **options):
        found = User.objects.filter(Q(username=user) | Q(email__iexact=user)).first()
        if found is None:
            raise CommandError(f"Utilisateur inconnu : « {user} ».")
        token, _ = Token.objects.get_or_create(user=found)
        self.stdout.write(token.key)
