"""`manage.py run_reimbursement [--until YYYY-MM-DD]`: draft statements of the redemptions up
to that day (default: the last day of the previous month); prints the statements created."""

from django.core.management.base import BaseCommand, CommandError

from aptic.errors import DomainError
from aptic.l10n import format_euros
from cheques import reimbursement


class Command(BaseCommand):
    help = "Dresse les relevés de remboursement des lieux jusqu’à une date (incluse)."

    def add_arguments(self, parser):
        parser.add_argument("--until", help="AAAA-MM-JJ (défaut : fin du mois précédent)")

    def handle(self, *args, until=None, **options):
        try:
            statements = reimbursement.run(until=reimbursement.parse_until(until))
        except DomainError as error:
            raise CommandError(error.detail) from None
        if not statements:
            self.stdout.write("Aucun encaissement à rembourser : aucun relevé créé.")
            return
        for statement in statements:
            self.stdout.write(
                f"{statement} — {statement.structure.name} — {statement.line_count} "
                f"chèque(s) — {format_euros(statement.total_cents)} "
                f"(jusqu’au {statement.until:%d/%m/%Y})")
        total = sum(statement.total_cents for statement in statements)
        self.stdout.write(f"{len(statements)} relevé(s) créé(s), {format_euros(total)}.")
