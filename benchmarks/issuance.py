"""Issue 1,000,000 cheques on Postgres and compare with Django's bulk_create, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aptic .venv/bin/python benchmarks/issuance.py

The benchmark creates its own database (``aptic_bench_issuance`` on the server of
DATABASE_URL), migrates it, times ``cheques.issuance.issue_order`` on an approved order of
100,000 booklets × 10 cheques (codes, COPY of booklets, cheques and audit rows, commit with
index maintenance: everything), then times the bulk_create fallback on a sample of the same
rows (50,000 cheques) and prints both rates and their ratio. The database is dropped at the
end unless ``--keep`` is given.

``--ceiling`` then issues the same order twice more into emptied tables, first with the
cheque table reduced to its primary key and the unique index on codes the issue requires,
then to its primary key alone: the best ratios any choice of the other indexes could give
on this machine and this server.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from benchdb import drop_database, recreate_database, server_url

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aptic_bench_issuance"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booklets", type=int, default=100_000)
    parser.add_argument("--per-booklet", type=int, default=10)
    parser.add_argument("--sample", type=int, default=50_000,
                        help="cheques written with bulk_create for the comparison")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--ceiling", action="store_true",
                        help="also time the issuance with fewer indexes on the cheque table")
    args = parser.parse_args()

    recreate_database(BENCH_DATABASE)
    os.environ["DATABASE_URL"] = server_url(BENCH_DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aptic.settings")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from aptic.models import Organisation
    from cheques import issuance
    from cheques.models import Order

    # Printing starts once issuance has committed (a Celery task in production, but run
    # inline here since the benchmark has no broker): it has its own benchmark
    # (benchmarks/printing.py) and stays out of this one.
    issuance.start_printing_after_issuance = lambda order_id: None
    try:
        call_command("migrate", verbosity=0)
        funder = Organisation.objects.create(kind=Organisation.Kind.FUNDER, name="Banc d’essai")

        def approved_order(booklets):
            order = Order.objects.create(
                funder=funder, booklets=booklets, cheques_per_booklet=args.per_booklet,
                contact_name="Banc", contact_email="banc@example.org",
                status=Order.Status.APPROVED,
            )
            return order

        def timed_issuance():
            order = approved_order(args.booklets)
            connection.close()  # start from a fresh connection, like a worker would
            started = time.perf_counter()
            issuance.issue_order(order.pk)
            return order.cheque_count, time.perf_counter() - started

        count, copy_seconds = timed_issuance()
        copy_rate = count / copy_seconds
        print(f"COPY issuance: {count:,} cheques in {copy_seconds:.2f} s "
              f"= {copy_rate:,.0f} cheques/s")

        sample_booklets = max(1, args.sample // args.per_booklet)
        sample = approved_order(sample_booklets)
        year = timezone.localdate().year
        with transaction.atomic():
            first = issuance.allocate_booklet_numbers(sample_booklets, year)
            numbers = [f"{year}-{n:06d}" for n in range(first, first + sample_booklets)]
        started = time.perf_counter()
        with transaction.atomic():
            issuance._write_with_bulk_create(sample, numbers, timezone.now(), None)
        bulk_seconds = time.perf_counter() - started
        bulk_rate = sample.cheque_count / bulk_seconds
        print(f"bulk_create:   {sample.cheque_count:,} cheques in {bulk_seconds:.2f} s "
              f"= {bulk_rate:,.0f} cheques/s (same rows, same run)")
        print(f"ratio COPY / bulk_create: {copy_rate / bulk_rate:.1f}×")
        print(f"at this rate, 1,000,000 cheques take {1_000_000 / copy_rate:.2f} s "
              "(target ≤ 10 s)")
        if args.ceiling:
            for label, keep in CEILINGS:
                reduce_cheque_table(connection, keep)
                count, seconds = timed_issuance()
                print(f"ceiling, {label}: {count:,} cheques in {seconds:.2f} s "
                      f"= {count / seconds:,.0f} cheques/s, "
                      f"{count / seconds / bulk_rate:.1f}× bulk_create")
    finally:
        if not args.keep:
            drop_database(BENCH_DATABASE)


CEILINGS = [
    ("primary key + unique code only", {"cheques_cheque_pkey", "unique_cheque_code"}),
    ("primary key only", {"cheques_cheque_pkey"}),
]


def reduce_cheque_table(connection, keep):
    """Empty the issuance tables and drop every index of the cheque table but `keep`."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cheques_cheque, cheques_booklet, aptic_auditevent CASCADE")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cheques_cheque'")
        for (name,) in cursor.fetchall():
            if name in keep:
                continue
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
            if cursor.fetchone():
                cursor.execute(f'ALTER TABLE cheques_cheque DROP CONSTRAINT "{name}"')
            else:
                cursor.execute(f'DROP INDEX "{name}"')


if __name__ == "__main__":
    main()
