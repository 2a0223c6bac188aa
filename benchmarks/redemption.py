"""Redemptions per second through HTTP: gunicorn on Postgres and Redis, driven by wrk.

    .venv/bin/python benchmarks/redemption.py [--seconds 20] [--connections 16]

It creates its own database (``aptic_bench_redemption`` on the server of DATABASE_URL,
default postgres://postgres@127.0.0.1:5432), issues an order of distinct cheques, starts
gunicorn (DEBUG=0, REDIS_URL for the cache and throttling) and lets Debian's ``wrk`` (a C
load generator, so the client does not eat the server's CPU) POST one distinct cheque per
request to /api/v1/redemptions/ with a personal API token. It prints redemptions/s,
p50/p99 latency, queries per redemption (one request measured in-process) and the ratio
against the raw SQL ceiling: the same conditional UPDATE driven directly from as many
connections, in the same run.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchdb import PRODUCTION, admin_sql, server_url

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "aptic_bench_redemption"

LUA = r"""
local codes = {}
local counter = 0
local thread_id, thread_count = 0, 1
local key_prefix = ""

function setup(thread)
  thread:set("id", _G.next_id or 0)
  _G.next_id = (_G.next_id or 0) + 1
end

function init(args)
  thread_id = tonumber(id) or 0
  thread_count = tonumber(args[1])
  local place, service, token, file = args[2], args[3], args[4], args[5]
  local index = 0
  for line in io.lines(file) do
    if index % thread_count == thread_id then table.insert(codes, line) end
    index = index + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Token " .. token
  body_prefix = '{"place": ' .. place .. ', "service": "' .. service .. '", "code": "'
end

function request()
  counter = counter + 1
  local code = codes[counter]
  if code == nil then code = "0000000000000" end
  return wrk.format(nil, nil, nil, body_prefix .. code .. '"}')
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY p50=%f p99=%f\n",
    latency:percentile(50) / 1000.0, latency:percentile(99) / 1000.0))
end
"""


def prepare(cheque_count):
    """Migrate, then create a qualified place, its mediator, a token and issued cheques."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from aptic.demo import load_accounts
    from aptic.tokens import create_token
    from cheques import ordering
    from places.models import Place, Qualification
    from services.models import Service
    from services.nomenclature import ensure_seeded

    ensure_seeded()
    accounts = load_accounts()
    place = Place.objects.create(
        structure=accounts["structure"], name="Lieu de mesure", address="1 rue du Banc",
        postcode="33000", town="Bordeaux", latitude=44.84, longitude=-0.57,
        qualification=Qualification.QUALIFIED)
    place.services.set(Service.objects.active())
    order = ordering.create_order(
        funder=accounts["funder"], created_by=accounts["financeur"],
        booklets=cheque_count // 10, cheques_per_booklet=10,
        contact_name="Mesure", contact_email="mesure@example.org")
    from django.test import override_settings

    with override_settings(ISSUANCE_ASYNC_THRESHOLD=10**9):
        ordering.approve_order(order, actor=accounts["operateur"])
    _token, key = create_token(user=accounts["mediateur"], name="mesure")
    codes = list(order.cheques.order_by("?").values_list("code", flat=True))
    return accounts, place, key, codes


def queries_per_redemption(user, place, code):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/redemptions/", {"code": code, "place": place.pk,
                                                       "service": "acces-poste"},
                               format="json", HTTP_IDEMPOTENCY_KEY="bench-1")
    assert response.status_code == 201, response.content
    return len(queries)


def raw_sql_ceiling(codes, connections_count, seconds):
    """The same conditional UPDATE, driven directly: the ceiling for one row per request."""
    import psycopg

    url = server_url(BENCH_DATABASE)
    done = [0] * connections_count
    stop = time.monotonic() + seconds

    def run(index):
        with psycopg.connect(url, autocommit=True) as conn:
            mine = codes[index::connections_count]
            for code in mine:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--cheques", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}", f"CREATE DATABASE {BENCH_DATABASE}")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": server_url(BENCH_DATABASE),
           "REDIS_URL": redis_url, "ALLOWED_HOSTS": "127.0.0.1,testserver",
           "THROTTLE_REDEMPTION": "100000000/min"}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    accounts, place, key, codes = prepare(args.cheques)
    from django.core.cache import cache

    cache.clear()
    probe_queries = queries_per_redemption(accounts["mediateur"], place, codes.pop())
    workdir = Path(tempfile.mkdtemp(prefix="bench-redemption-"))
    (workdir / "codes.txt").write_text("\n".join(codes) + "\n")
    (workdir / "redeem.lua").write_text(LUA)

    port = 18000 + os.getpid() % 1000
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aptic.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/services/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        from django.db import connection

        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cheques_redemption")
            before = cursor.fetchone()[0]
        connection.close()
        wrk = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
             "--latency", "-s", str(workdir / "redeem.lua"),
             f"http://127.0.0.1:{port}/api/v1/redemptions/", "--",
             str(args.threads), str(place.pk), "acces-poste", key,
             str(workdir / "codes.txt")],
            capture_output=True, text=True, check=True)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    output = wrk.stdout
    latency = re.search(r"LATENCY p50=([\d.]+) p99=([\d.]+)", output)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cheques_redemption")
        redeemed = cursor.fetchone()[0] - before
    connection.close()
    rate = redeemed / args.seconds
    remaining = codes[len(codes) // 2:]
    ceiling = raw_sql_ceiling(remaining, args.connections, min(args.seconds, 10))
    print(json.dumps({
        "redemptions": redeemed, "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "redemptions_per_s": round(rate, 1),
        "p50_ms": float(latency.group(1)), "p99_ms": float(latency.group(2)),
        "queries_per_redemption": probe_queries,
        "raw_sql_updates_per_s": round(ceiling, 1),
        "ratio_to_raw_sql": round(rate / ceiling, 3),
        "gunicorn_workers": args.workers, "connections": args.connections,
    }, indent=2))
    print(f"\n{rate:.0f} redemptions/s, p50 {float(latency.group(1)):.1f} ms, "
          f"p99 {float(latency.group(2)):.1f} ms, {probe_queries} queries per redemption; "
          f"raw SQL ceiling {ceiling:.0f} updates/s (ratio {rate / ceiling:.2f}). "
          f"Targets: >= 1000/s, p99 <= 50 ms.")
    shutil.rmtree(workdir, ignore_errors=True)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")


if __name__ == "__main__":
    main()
