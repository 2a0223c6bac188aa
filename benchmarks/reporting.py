"""Query times of the funder dashboard on 1,000,000 cheques.

    .venv/bin/python benchmarks/reporting.py [--cheques 1000000] [--runs 9] [--keep]

It creates its own database (``aptic_bench_reporting`` on the server of DATABASE_URL,
default postgres://postgres@127.0.0.1:5432), migrates it and fills it in SQL
(INSERT … SELECT generate_series) with twelve monthly orders of one funder over the last
twelve months: booklets handed out (with anonymous profiles) or not, started, cancelled;
cheques issued, distributed, redeemed, reimbursed, cancelled and expired; one redemption per
used cheque (plus a few undone ones) at 200 places in 8 départements, by 300 mediators, for
the services of the nomenclature. Then, after VACUUM ANALYZE, it times the functions the
dashboard calls (cheques.reporting: summary, monthly chart, tables) and the operator's fraud
signals, and prints p50 / max over several runs. Target: ≤ 300 ms for the summary and the
monthly chart. The database is dropped at the end unless --keep.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchdb import PRODUCTION, admin_sql, server_url

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aptic_bench_reporting"
TARGET_MS = 300
DEPARTMENTS = ["33", "24", "40", "47", "64", "17", "16", "87"]


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = server_url(BENCH_DATABASE)
    for name, value in PRODUCTION.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


def build(cheque_count):
    """Accounts, places and orders with the ORM; booklets, cheques and redemptions in SQL."""
    import datetime

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from aptic.demo import load_accounts
    from aptic.models import Organisation, User
    from cheques.models import Order
    from places.models import Place, Qualification
    from services.nomenclature import ensure_seeded

    ensure_seeded()
    accounts = load_accounts()
    funder = accounts["funder"]
    structures = Organisation.objects.bulk_create(
        Organisation(kind=Organisation.Kind.STRUCTURE, name=f"Structure {i}") for i in range(40))
    places = Place.objects.bulk_create(
        Place(structure=structures[i % 40], name=f"Lieu {i}", address=f"{i} rue du Banc",
              postcode=f"{DEPARTMENTS[i % 8]}000", town=f"Commune {i}",
              department=DEPARTMENTS[i % 8], latitude=44 + (i % 17) * 0.1,
              longitude=-1 + (i % 13) * 0.1, qualification=Qualification.QUALIFIED)
        for i in range(200))
    User.objects.bulk_create(User(username=f"mediateur{i}", email=f"m{i}@example.org")
                             for i in range(300))
    now = timezone.now()
    booklets_per_order = cheque_count // 10 // 12
    orders = []
    for month in range(12):  # month 0 is eleven months ago
        issued_at = now - datetime.timedelta(days=30 * (11 - month) + 20)
        orders.append(Order(
            funder=funder, status=Order.Status.ISSUED, booklets=booklets_per_order,
            cheques_per_booklet=10, face_value_cents=1000,
            valid_until=(issued_at + datetime.timedelta(days=300)).date(),
            contact_name="Mesure", contact_email="mesure@example.org",
            total_cents=booklets_per_order * 10_000, issued_cheques=booklets_per_order * 10,
            issued_at=issued_at, decided_at=issued_at))
    orders = Order.objects.bulk_create(orders)
    # Another funder's small order, so that the filter by funder has something to filter.
    other = Organisation.objects.create(kind=Organisation.Kind.FUNDER, name="Autre financeur")
    Order.objects.create(funder=other, status=Order.Status.ISSUED, booklets=10,
                         cheques_per_booklet=10, contact_name="x", contact_email="x@e.org",
                         issued_at=now)
    order_ids = [order.pk for order in orders]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # One row per booklet: its order, whether handed out, how many cheques were used.
        cursor.execute("""
            CREATE TEMP TABLE plan AS
            SELECT g AS n, o.id AS order_id, o.issued_at, o.valid_until,
                   r1 < 0.55 + 0.03 * o.rank AS handed,
                   r2 < 0.01 AS cancelled,
                   CASE WHEN r1 < 0.55 + 0.03 * o.rank
                        THEN least(10, floor(power(r3, 1.3) * (4 + o.rank))::int) ELSE 0 END
                        AS used,
                   r4 AS r4
            FROM (SELECT id, issued_at, valid_until,
                         12 - row_number() OVER (ORDER BY id) AS rank
                  FROM cheques_order WHERE id = ANY(%s)) o,
                 LATERAL generate_series(1, %s) AS s(i),
                 LATERAL (SELECT (o.id * 1000000 + s.i) AS g, random() AS r1, random() AS r2,
                                 random() AS r3, random() AS r4) r
        """, [order_ids, booklets_per_order])
        cursor.execute("""
            INSERT INTO cheques_booklet (order_id, number, state, state_changed_at,
                distributed_at, distributed_by_id, age_bracket, postcode, situation,
                cancellation_reason)
            SELECT order_id, 'B' || lpad(to_hex(n), 10, '0'),
                   CASE WHEN cancelled THEN 'cancelled' WHEN used > 0 THEN 'started'
                        WHEN handed THEN 'distributed' ELSE 'issued' END,
                   issued_at, CASE WHEN handed THEN issued_at + interval '3 days' END, NULL,
                   CASE WHEN handed THEN (ARRAY['under_25','25_44','45_64','65_79','over_80',
                        ''])[1 + floor(r4 * 6)::int] ELSE '' END,
                   CASE WHEN handed THEN (ARRAY['33000','24000','40000','47000','64000',
                        '33700',''])[1 + floor(random() * 7)::int] ELSE '' END,
                   CASE WHEN handed THEN (ARRAY['employed','job_seeker','retired','student',
                        'other',''])[1 + floor(random() * 6)::int] ELSE '' END,
                   CASE WHEN cancelled THEN 'Perdu' ELSE '' END
            FROM plan
        """)
        cursor.execute("ANALYZE cheques_booklet")
        # Cheques: the first `used` of each booklet are used (reimbursed if more than 35 days
        # ago); the others follow the booklet, or have expired after the order's validity.
        cursor.execute("""
            INSERT INTO cheques_cheque (booklet_id, order_id, number, code, face_value_cents,
                state, state_changed_at, activated_at, cancellation_reason)
            SELECT b.id, p.order_id, b.number || '-' || lpad(i::text, 2, '0'),
                   'C' || lpad(to_hex(p.n * 16 + i), 12, '0'), 1000,
                   CASE WHEN i <= p.used THEN
                            CASE WHEN t.at < now() - interval '35 days' THEN 'reimbursed'
                                 ELSE 'redeemed' END
                        WHEN p.cancelled THEN 'cancelled'
                        WHEN p.valid_until < now()::date - 31 THEN 'expired'
                        WHEN p.handed THEN 'distributed' ELSE 'issued' END,
                   CASE WHEN i <= p.used THEN t.at ELSE p.issued_at END,
                   CASE WHEN p.handed THEN p.issued_at + interval '3 days' END,
                   CASE WHEN p.cancelled AND i > p.used THEN 'Perdu' ELSE '' END
            FROM plan p
            JOIN cheques_booklet b ON b.number = 'B' || lpad(to_hex(p.n), 10, '0'),
                 LATERAL generate_series(1, 10) AS s(i),
                 LATERAL (SELECT p.issued_at + interval '4 days'
                          + random() * (now() - p.issued_at - interval '4 days') AS at) t
        """)
        cursor.execute("""
            CREATE TEMP TABLE refs AS
            SELECT (SELECT array_agg(id ORDER BY id) FROM places_place) AS places,
                   (SELECT array_agg(structure_id ORDER BY id) FROM places_place) AS structures,
                   (SELECT array_agg(id ORDER BY id) FROM services_service) AS services,
                   (SELECT array_agg(id ORDER BY id) FROM aptic_user
                    WHERE username LIKE 'mediateur%') AS mediators
        """)
        # Zipf-like: a few places do most of the work.
        cursor.execute("""
            INSERT INTO cheques_redemption (cheque_id, order_id, place_id, structure_id,
                service_id, mediator_id, amount_cents, redeemed_at, previous_state, basket,
                undone_at, undone_by_id)
            SELECT c.id, c.order_id, refs.places[k], refs.structures[k],
                   refs.services[1 + floor(power(random(), 2)
                                           * array_length(refs.services, 1))::int],
                   refs.mediators[1 + (k * 3 + floor(random() * 3)::int) % 300],
                   c.face_value_cents, c.state_changed_at, 'distributed', gen_random_uuid(),
                   NULL, NULL
            FROM cheques_cheque c, refs,
                 LATERAL (SELECT 1 + floor(power(random(), 2.5) * 200)::int AS k) pick
            WHERE c.state IN ('redeemed', 'reimbursed')
        """)
        # About 1 % of redemptions were undone (the cheque went back to distributed).
        cursor.execute("""
            INSERT INTO cheques_redemption (cheque_id, order_id, place_id, structure_id,
                service_id, mediator_id, amount_cents, redeemed_at, previous_state, basket,
                undone_at, undone_by_id)
            SELECT cheque_id, order_id, place_id, structure_id, service_id, mediator_id,
                   amount_cents, redeemed_at - interval '1 day', previous_state,
                   gen_random_uuid(), redeemed_at - interval '23 hours', mediator_id
            FROM cheques_redemption WHERE random() < 0.01
        """)
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM cheques_cheque GROUP BY state ORDER BY 1")
        states = cursor.fetchall()
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE undone_at IS NULL) "
                       "FROM cheques_redemption")
        redemptions = cursor.fetchone()
    connection.close()
    admin_sql_on_bench("VACUUM ANALYZE")
    return funder, orders, states, redemptions, places


def admin_sql_on_bench(statement):
    import psycopg

    with psycopg.connect(server_url(BENCH_DATABASE), autocommit=True) as conn:
        conn.execute(statement)


def timed(function, runs):
    function()  # warm-up (caches, plans)
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cheques", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"',
              f'CREATE DATABASE "{BENCH_DATABASE}"')
    try:
        setup_django()
        start = time.perf_counter()
        funder, orders, states, redemptions, _places = build(args.cheques)
        print(f"Built in {time.perf_counter() - start:.0f} s: "
              + ", ".join(f"{state} {n:,}" for state, n in states)
              + f"; redemptions {redemptions[0]:,} ({redemptions[1]:,} live)")
        report(funder, orders, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def report(funder, orders, runs):
    from cheques import fraud, reporting
    from cheques.models import Order

    funder_orders = Order.objects.filter(funder=funder)
    one_order = Order.objects.filter(pk=orders[6].pk)
    figures = reporting.summary(funder_orders)
    print(f"Funder summary: {figures['cheques']['issued']:,} cheques, "
          f"{figures['cheques']['redeemed']:,} redeemed "
          f"({figures['cheques']['use_rate']} %), booklets handed out "
          f"{figures['booklets']['handed_out']:,}, started {figures['booklets']['started']:,}, "
          f"paid {figures['amounts']['paid_cents'] / 100:,.0f} €, outstanding "
          f"{figures['amounts']['outstanding_cents'] / 100:,.0f} €")
    months = reporting.by_month(funder_orders)
    print("Monthly chart: " + ", ".join(f"{m:%Y-%m} {n:,}" for m, n, _c in months))
    measures = [
        ("funder summary (all orders)", lambda: reporting.summary(funder_orders), True),
        ("monthly chart (all orders)", lambda: reporting.by_month(funder_orders), True),
        ("summary of one order", lambda: reporting.summary(one_order), True),
        ("monthly chart of one order", lambda: reporting.by_month(one_order), True),
        ("table by service", lambda: reporting.by_service(funder_orders), False),
        ("table by place (+ département)", lambda: reporting.by_place(funder_orders), False),
        ("beneficiary profile", lambda: reporting.beneficiary_profile(funder_orders), False),
        ("table of orders", lambda: reporting.order_rows(funder_orders), False),
        ("fraud signals (30 days)", lambda: fraud.signals(), False),
    ]
    print(f"\n{'query':<34} {'p50 ms':>8} {'max ms':>8}  target")
    failed = False
    for label, function, targeted in measures:
        p50, worst = timed(function, runs)
        verdict = ""
        if targeted:
            verdict = "ok" if worst <= TARGET_MS else f"OVER {TARGET_MS} ms"
            failed |= worst > TARGET_MS
        print(f"{label:<34} {p50:>8.1f} {worst:>8.1f}  {verdict}")
    if failed:
        print(f"\nSome targeted queries took more than {TARGET_MS} ms.")


if __name__ == "__main__":
    main()
