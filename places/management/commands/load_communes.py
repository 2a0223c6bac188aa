"""Load the gazetteer of French communes shipped in the repo (idempotent)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from places import gazetteer


class Command(BaseCommand):
    help = "Charge (ou met à jour) la table des communes à partir de places/data/communes.csv.gz."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(gazetteer.DATA_FILE),
                            help="Fichier des communes (CSV gzip) à charger.")
        parser.add_argument("--build-from", metavar="LAPOSTE_CSV",
                            help="Régénère d’abord le fichier à partir du fichier de La Poste "
                                 "(laposte_hexasmal.csv ou .csv.gz).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if options["build_from"]:
            source = Path(options["build_from"])
            if not source.exists():
                raise CommandError(f"Fichier introuvable : {source}")
            written = gazetteer.build_data_file(source, path)
            self.stdout.write(f"{written} communes written to {path}")
        if not path.exists():
            raise CommandError(f"Fichier introuvable : {path}")
        with transaction.atomic():
            count = gazetteer.load(path=path)
        self.stdout.write(self.style.SUCCESS(f"{count} communes loaded"))
