"""Redemptions per second through HTTP, beside the framework's floor and the SQL ceiling.

    .venv/bin/python benchmarks/redemption.py [--seconds 20] [--connections 16] [--port N]

It creates its own database (``--database``, default ``aptic_bench_redemption``, on the
server of DATABASE_URL, default postgres://postgres@127.0.0.1:5432), collects the static
files into a temporary STATIC_ROOT (production settings, DEBUG=0, need the manifest), issues
cheques, starts gunicorn (4 workers, REDIS_URL for the cache and throttles) and drives it
with Debian's ``wrk`` (a C load generator: the client does not eat the server's CPU). In
the same run, against the same database and server:

(a) the floor: a bare DRF view, defined in benchmarks/floor_urls.py and served only here,
    that does the conditional UPDATE of one cheque by code and nothing else;
(b) the product: POST /api/v1/redemptions/ with a personal API token, a distinct
    Idempotency-Key per request, every rule, audit and ledger, one distinct cheque each;
(c) the ceiling: the same conditional UPDATE sent by psycopg from as many connections.

It prints rates, p50/p99 latency, SQL statements per request (one request measured
in-process with CaptureQueriesContext, which counts BEGIN and COMMIT too) and the ratios
(b)/(a) and (b)/(c), then runs ``check_ledger`` on what (b) wrote.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchdb import PRODUCTION, admin_sql, server_url

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "acces-poste"  # a one-cheque service: a single cheque pays a whole session
PRODUCT_PATH = "/api/v1/redemptions/"
FLOOR_PATH = "/bench/floor/"

# args: thread count, codes file, JSON body up to the code, token ("-": none), key prefix
# ("-": no Idempotency-Key).
LUA = r"""
local codes = {}
local counter = 0
local thread_id, thread_count = 0, 1
local body_prefix, key_prefix = "", "-"

function setup(thread)
  thread:set("id", _G.next_id or 0)
  _G.next_id = (_G.next_id or 0) + 1
end

function init(args)
  thread_id = tonumber(id) or 0
  thread_count = tonumber(args[1])
  local index = 0
  for line in io.lines(args[2]) do
    if index % thread_count == thread_id then table.insert(codes, line) end
    index = index + 1
  end
  body_prefix, key_prefix = args[3], args[5]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[4] ~= "-" then wrk.headers["Authorization"] = "Token " .. args[4] end
end

function request()
  counter = counter + 1
  local code = codes[counter] or "0000000000000"
  if key_prefix ~= "-" then
    wrk.headers["Idempotency-Key"] = key_prefix .. "-" .. thread_id .. "-" .. counter
  end
  return wrk.format(nil, nil, nil, body_prefix .. code .. '"}')
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY p50=%f p90=%f p99=%f max=%f\n",
    latency:percentile(50) / 1000.0, latency:percentile(90) / 1000.0,
    latency:percentile(99) / 1000.0, latency.max / 1000.0))
end
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collect_static(env):
    """Production settings refuse to start without collectstatic's manifest."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True)


def prepare(product_cheques, floor_cheques):
    """Migrate, then create a qualified place, its mediator's token, and two issued orders:
    one for the product's redemptions, one for the floor and the ceiling."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    call_command("migrate", verbosity=0)
    from aptic.demo import load_accounts
    from aptic.tokens import create_token
    from cheques import ordering
    from places.models import Place, Qualification
    from services.models import Service
    from services.nomenclature import ensure_seeded

    ensure_seeded()
    assert Service.objects.get(slug=SERVICE).default_cheques == 1
    accounts = load_accounts()
    place = Place.objects.create(
        structure=accounts["structure"], name="Lieu de mesure", address="1 rue du Banc",
        postcode="33000", town="Bordeaux", latitude=44.84, longitude=-0.57,
        qualification=Qualification.QUALIFIED)
    place.services.set(Service.objects.active())

    def issued(count):
        order = ordering.create_order(
            funder=accounts["funder"], created_by=accounts["financeur"],
            booklets=count // 10, cheques_per_booklet=10,
            contact_name="Mesure", contact_email="mesure@example.org")
        with override_settings(ISSUANCE_ASYNC_THRESHOLD=10**9):
            ordering.approve_order(order, actor=accounts["operateur"])
        return order, list(order.cheques.order_by("?").values_list("code", flat=True))

    _product_order, product_codes = issued(product_cheques)
    floor_order, floor_codes = issued(floor_cheques)
    _token, key = create_token(user=accounts["mediateur"], name="mesure")
    return place, key, product_codes, floor_order, floor_codes


def statements_per_request(path, body, headers):
    """SQL statements of one request, in-process (after one warm-up request: the token's
    last-used date is written at most once a minute), as CaptureQueriesContext counts them
    (BEGIN and COMMIT included)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = []
    for index, code in enumerate(body.pop("codes")):
        headers = {**headers}
        if "HTTP_IDEMPOTENCY_KEY" in headers:
            headers["HTTP_IDEMPOTENCY_KEY"] = f"probe-{index}"
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, {**body, "code": code},
                                   content_type="application/json", **headers)
        assert response.status_code == 201, response.content
        counts.append(len(queries))
    return counts[-1]


def run_wrk(args, port, path, codes, body_prefix, token="-", key_prefix="-", seconds=None):
    workdir = Path(tempfile.mkdtemp(prefix="bench-redemption-"))
    try:
        (workdir / "codes.txt").write_text("\n".join(codes) + "\n")
        (workdir / "redeem.lua").write_text(LUA)
        output = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}",
             f"-d{seconds or args.seconds}s",
             "--latency", "-s", str(workdir / "redeem.lua"), f"http://127.0.0.1:{port}{path}",
             "--", str(args.threads), str(workdir / "codes.txt"), body_prefix, token,
             key_prefix],
            capture_output=True, text=True, check=True).stdout
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    latency = re.search(r"LATENCY p50=([\d.]+) p90=([\d.]+) p99=([\d.]+) max=([\d.]+)",
                        output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "p50_ms": float(latency.group(1)), "p90_ms": float(latency.group(2)),
            "p99_ms": float(latency.group(3)), "max_ms": float(latency.group(4))}


def latencies(run):
    return "  ".join(f"{name} {run[f'{name}_ms']:6.1f} ms"
                     for name in ("p50", "p90", "p99", "max"))


def split(items, parts):
    """The first 1/`parts` of `items`, and the rest."""
    cut = len(items) // parts
    return items[:cut], items[cut:]


def count(sql, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        value = cursor.fetchone()[0]
    connection.close()
    return value


def raw_sql_ceiling(database, codes, connections_count, seconds):
    """(c) the same conditional UPDATE, driven directly: the ceiling for one row per
    request."""
    import psycopg

    url = server_url(database)
    done = [0] * connections_count
    stop = time.monotonic() + seconds

    def run(index):
        with psycopg.connect(url, autocommit=True) as conn:
            for code in codes[index::connections_count]:
                if time.monotonic() > stop:
                    break
                conn.execute(
                    "UPDATE cheques_cheque SET state = 'redeemed', state_changed_at = now() "
                    "WHERE code = %s AND state IN ('issued', 'distributed')", (code,))
                done[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def ledger_is_clean(floor_order):
    """check_ledger on the bench database. The floor and the ceiling changed cheques'
    states without redemptions (that is their point): their order is put back first."""
    from django.core.management import call_command

    from cheques.models import Cheque

    Cheque.objects.filter(order=floor_order).update(state=Cheque.State.ISSUED)
    try:
        call_command("check_ledger")
    except SystemExit as failed:
        return failed.code in (0, None)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--cheques", type=int, default=100_000,
                        help="cheques issued: 40 %% for (b), the rest for (a) and (c)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up for each")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--database", default="aptic_bench_redemption")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    database = args.database
    admin_sql(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
    static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": server_url(database),
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
           "ALLOWED_HOSTS": "127.0.0.1,testserver", "STATIC_ROOT": str(static_root),
           "THROTTLE_REDEMPTION": "100000000/min",
           "DJANGO_SETTINGS_MODULE": "floor_settings",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    os.environ.update(env)
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    try:
        collect_static(env)
        product_count = args.cheques * 2 // 5
        place, key, product_codes, floor_order, floor_codes = prepare(
            product_count, args.cheques - product_count)
        from django.core.cache import cache

        cache.clear()
        # The setup wrote some 100,000 rows: vacuumed, analysed and flushed to disk before
        # anything is timed, so that neither side pays for a checkpoint of the setup's writes.
        admin_sql("VACUUM ANALYZE", "CHECKPOINT", database=database)
        product_body = {"place": place.pk, "service": SERVICE}
        product_statements = statements_per_request(
            PRODUCT_PATH, {**product_body, "codes": [product_codes.pop(), product_codes.pop()]},
            {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_IDEMPOTENCY_KEY": "probe"})
        floor_statements = statements_per_request(
            FLOOR_PATH, {"codes": [floor_codes.pop(), floor_codes.pop()]}, {})
        # A tenth of each set warms the workers up (imports, connections, caches) first.
        product_warmup, product_codes = split(product_codes, 10)
        floor_warmup, floor_codes = split(floor_codes, 10)
        floor_half, ceiling_half = split(floor_codes, 2)

        port = args.port or free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "aptic.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/services/",
                                           timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                sys.exit("gunicorn did not answer")
            product_prefix = json.dumps(product_body)[:-1] + ', "code": "'
            run_wrk(args, port, FLOOR_PATH, floor_warmup, '{"code": "', seconds=args.warmup)
            run_wrk(args, port, PRODUCT_PATH, product_warmup, product_prefix, key,
                    f"w{os.getpid()}", seconds=args.warmup)
            floor = run_wrk(args, port, FLOOR_PATH, floor_half, '{"code": "')
            before = count("SELECT count(*) FROM cheques_redemption")
            product = run_wrk(args, port, PRODUCT_PATH, product_codes, product_prefix, key,
                              f"k{os.getpid()}")
            product["redeemed"] = count("SELECT count(*) FROM cheques_redemption") - before
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        floor_rate = floor["requests"] / args.seconds
        product_rate = product["redeemed"] / args.seconds
        ceiling = raw_sql_ceiling(database, ceiling_half, args.connections,
                                  min(args.seconds, 10))
        clean = ledger_is_clean(floor_order)
        result = {
            "connections": args.connections, "gunicorn_workers": args.workers,
            "seconds": args.seconds,
            "a_floor": {**floor, "per_s": round(floor_rate, 1),
                        "statements_per_request": floor_statements},
            "b_product": {**product, "per_s": round(product_rate, 1),
                          "statements_per_request": product_statements},
            "c_raw_sql_per_s": round(ceiling, 1),
            "ratio_b_to_a": round(product_rate / floor_rate, 3) if floor_rate else None,
            "ratio_b_to_c": round(product_rate / ceiling, 3),
            "check_ledger_clean": clean,
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        print(f"\n(a) floor   {floor_rate:7.0f}/s  {latencies(floor)}  "
              f"{floor_statements} statements")
        print(f"(b) product {product_rate:7.0f}/s  {latencies(product)}  "
              f"{product_statements} statements "
              f"(BEGIN and COMMIT counted), {product['non_2xx']} non-2xx")
        print(f"(c) raw SQL {ceiling:7.0f}/s")
        print(f"(b)/(a) {result['ratio_b_to_a']}  (b)/(c) {result['ratio_b_to_c']}  "
              f"check_ledger: {'clean' if clean else 'DIFFERENCES'}  "
              f"(targets: (b)/(a) >= 0.3 at 16 connections, p99 <= 50 ms at 8, <= 6 statements)")
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin_sql(f"DROP DATABASE IF EXISTS {database}")


if __name__ == "__main__":
    main()
