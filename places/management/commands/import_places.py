from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from aptic.models import User
from places.standard.importing import import_places
from places.standard.reading import ImportFileError


class Command(BaseCommand):
    help = ("Importe un fichier du standard national des lieux de médiation numérique "
            "(v1.0.2 CSV, ou v0.1 JSON/CSV). Les lieux sont mis à jour par (source, id).")

    def add_arguments(self, parser):
        parser.add_argument("file", help="Chemin du fichier CSV ou JSON.")
        parser.add_argument("--source", help="Nom de la source (par défaut, la colonne "
                                             "« source » de chaque ligne).")
        parser.add_argument("--qualified", action="store_true",
                            help="Les lieux importés sont qualifiés (reprise d’un registre "
                                 "déjà qualifié ailleurs ; journalisé).")
        parser.add_argument("--actor", help="E-mail ou identifiant de l’opérateur qui "
                                            "importe (pour le journal).")

    def handle(self, *args, file, source=None, qualified=False, actor=None, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Impossible de lire {path} : {error.strerror}.") from error
        user = None
        if actor:
            user = (User.objects.filter(email=actor).first()
                    or User.objects.filter(username=actor).first())
            if user is None:
                raise CommandError(f"Utilisateur inconnu : {actor}.")
        try:
            report = import_places(data, source=source, qualified=qualified, actor=user,
                                   file_name=path.name)
        except ImportFileError as error:
            raise CommandError(f"{path.name} : {error.message} Rien n’a été importé.") from error
        except PermissionDenied as error:
            raise CommandError(f"{actor} : {error} Rien n’a été importé.") from error
        self.stdout.write(report.summary())
        for problem in report.rejected:
            self.stdout.write(f"rejected {problem}")
        verbosity = options.get("verbosity", 1)
        for problem in report.warnings if verbosity > 1 else []:
            self.stdout.write(f"warning {problem}")
        if report.warnings and verbosity <= 1:
            self.stdout.write(f"{len(report.warnings)} avertissement(s) : valeurs ignorées "
                              "(relancez avec -v 2 pour les voir).")
        if report.unchanged:
            self.stdout.write(f"unchanged {report.unchanged}")
        if qualified:
            self.stdout.write(f"qualified {report.qualified}")
