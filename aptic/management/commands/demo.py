from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from aptic.demo import USERS, load_accounts


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent) et affiche les comptes."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Autorise le chargement même avec DEBUG=0.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refus : DEBUG=0 ressemble à une production. Relancez avec --force si c’est voulu."
            )
        accounts = load_accounts()
        for path in settings.DEMO_LOADERS:
            import_string(path)(accounts, self.stdout)
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write("Comptes (mot de passe = identifiant) :")
        for username, _first, _last, org_key, role in USERS:
            self.stdout.write(f"  {username:<14} {role.label} — {accounts[org_key]}")
        self.stdout.write(f"Site : {settings.SITE_URL}/")
