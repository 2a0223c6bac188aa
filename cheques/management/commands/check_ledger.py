"""`manage.py check_ledger`: exits non-zero on any difference between the funds ledger, its
invariant (prepaid = outstanding + redeemed-unpaid + paid + credited) and the cheques."""

import sys

from django.core.management.base import BaseCommand

from cheques import ledger


class Command(BaseCommand):
    help = "Vérifie le grand livre des fonds au centime près (sortie non nulle si écart)."

    def handle(self, *args, **options):
        problems = ledger.check()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            self.stderr.write(f"{len(problems)} écart(s) dans le grand livre.")
            sys.exit(1)
        self.stdout.write("Grand livre équilibré : aucun écart.")
