from django.core.management.base import BaseCommand, CommandError

from places.publication import REFUSED, publish


class Command(BaseCommand):
    help = ("Publie les lieux qualifiés en données ouvertes (/donnees/) : lieux.csv (standard "
            "national v1.0.2) et lieux.json (data.inclusion), vérifiés avant publication. La "
            "tâche quotidienne fait le même travail.")

    def handle(self, *args, **options):
        outcomes = publish()
        for outcome in outcomes:
            counts = ", ".join(f"{count} {name}" for name, count in outcome.counts.items())
            self.stdout.write(f"{outcome.name}: {outcome.status} ({counts})")
            for problem in outcome.problems:
                self.stdout.write(f"  {problem}")
        refused = [outcome.name for outcome in outcomes if outcome.status == REFUSED]
        if refused:
            raise CommandError(f"Non publié : {', '.join(refused)}. Les fichiers précédents "
                               "restent en ligne ; l’opérateur est prévenu.")
