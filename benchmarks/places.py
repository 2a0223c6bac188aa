"""Benchmark of the public search of places (issue 5).

Creates a dedicated Postgres database (default `aptic_bench_places`, dropped at the end unless
--keep), migrates it (which loads the gazetteer), loads 50,000 places spread over France
(around randomly chosen communes, 90 % qualified, 1 to 3 services each), then measures through
the Django test client:

- nearest-20 with a service filter: `GET /api/v1/places/?lat=&lon=&service=&limit=20`
  (default radius 30 km) around random communes; target p95 ≤ 20 ms;
- GeoJSON viewport: `GET /api/v1/places/geojson/?bbox=` for viewports the size of a
  town (zoom ~13), a département (zoom ~9) and all of France (zoom ~6); target p95 ≤ 100 ms.
  Past 1,000 places in the viewport the server answers a grid of clusters (32×32 cells at
  most) instead of every point, and viewports of a degree or more are cached for a minute
  (invalidated by any change of a place): see places/search.py. The France view is also
  measured with a cold cache (the cache version bumped before each request), which is what
  the first visitor after a change waits for.

Usage: .venv/bin/python benchmarks/places.py [--places 50000] [--runs 300] [--keep] [--reuse]
       (BENCH_DATABASE_URL overrides postgres://postgres@127.0.0.1:5432/aptic_bench_places;
       BENCH_REDIS_URL, when set, puts the cache in Redis as in production instead of the
       local-memory cache)
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from benchdb import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOURS = ["Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00", "Tu-Sa 10:00-18:00",
         "Mo,We,Fr 09:00-12:30", "Mo-Fr 08:30-17:30", ""]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def report(label, timings, target=None, cpu=None):
    p50, p95 = percentile(timings, 0.50), percentile(timings, 0.95)
    verdict = ""
    if target is not None:
        verdict = f"  target p95 ≤ {target} ms: {'OK' if p95 <= target else 'MISSED'}"
    print(f"{label:<48} n={len(timings):<4} p50={p50:6.1f} ms  p95={p95:6.1f} ms  "
          f"max={max(timings):6.1f} ms{verdict}")
    if cpu:
        print(f"{'':<48} Python CPU per request: p50 {percentile(cpu, 0.5):.1f} ms, "
              f"p95 {percentile(cpu, 0.95):.1f} ms")
    return p95


def setup_database(url, *, create):
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def load_places(count, rng):
    from django.db import connection, transaction

    from places.departments import department_of
    from places.models import Commune, Place, Qualification
    from services.models import Service

    communes = list(Commune.objects.filter(latitude__isnull=False)
                    .exclude(department__startswith="97")
                    .values_list("insee_code", "postcode", "name", "latitude", "longitude"))
    services = list(Service.objects.values_list("id", flat=True))
    Through = Place.services.through
    started = time.perf_counter()
    with transaction.atomic():
        batch_size = 5000
        for start in range(0, count, batch_size):
            rows = []
            for n in range(start, min(count, start + batch_size)):
                insee, postcode, town, lat, lon = rng.choice(communes)
                rows.append(Place(
                    name=f"Lieu de médiation {n}", address=f"{n} rue de la République",
                    postcode=postcode, insee_code=insee, town=town,
                    department=department_of(insee),
                    latitude=lat + rng.uniform(-0.02, 0.02),
                    longitude=lon + rng.uniform(-0.03, 0.03),
                    opening_hours=rng.choice(HOURS),
                    qualification=(Qualification.QUALIFIED if rng.random() < 0.9
                                   else Qualification.SUBMITTED),
                    specific_support=["Surdité"] if rng.random() < 0.1 else [],
                    fees=["Gratuit"] if rng.random() < 0.6 else ["Payant"],
                ))
            created = Place.objects.bulk_create(rows)
            Through.objects.bulk_create([
                Through(place_id=place.pk, service_id=service)
                for place in created for service in rng.sample(services, rng.randint(1, 3))
            ])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {count} places in {time.perf_counter() - started:.1f} s "
          f"({Place.objects.qualified().count()} qualified)")
    return communes


CPU = []  # CPU time of this process per request (ms): less sensitive to a busy machine


def measure(client, url, params):
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url, params)
    elapsed = (time.perf_counter() - started) * 1000
    CPU.append((time.process_time() - cpu) * 1000)
    if response.status_code != 200:
        raise SystemExit(f"{url} {params} → {response.status_code} {response.content[:300]}")
    return elapsed, response.json()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database kept by an earlier --keep run")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/aptic_bench_places")
    os.environ.update(PRODUCTION, DATABASE_URL=url)
    os.environ.pop("REDIS_URL", None)  # local-memory cache unless BENCH_REDIS_URL is given
    if os.environ.get("BENCH_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    if not args.reuse:
        setup_database(url, create=True)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from services.models import Category, Service

        # The anonymous throttle stays in the measured path, with a rate the benchmark
        # cannot reach.
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["places_search"] = "1000000/min"
        from django.core.cache import cache

        from places.models import Commune
        from places.search import places_changed

        rng = random.Random(2024)
        if args.reuse:
            communes = list(Commune.objects.filter(latitude__isnull=False)
                            .exclude(department__startswith="97")
                            .values_list("insee_code", "postcode", "name", "latitude",
                                         "longitude"))
        else:
            call_command("migrate", verbosity=0)
            communes = load_places(args.places, rng)
        cache.clear()
        filters = (list(Category.objects.values_list("slug", flat=True))
                   + list(Service.objects.values_list("slug", flat=True)))
        client = Client()

        nearest, found = [], []
        CPU.clear()
        for run in range(args.runs + 20):
            _insee, _postcode, _name, lat, lon = rng.choice(communes)
            elapsed, body = measure(client, "/api/v1/places/", {
                "lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "service": rng.choice(filters),
                "limit": 20})
            if run >= 20:  # warm-up first
                nearest.append(elapsed)
                found.append(body["count"])
        print()
        report("nearest-20, service filter (radius 30 km)", nearest, target=20, cpu=CPU[20:])
        print(f"{'':<48} places returned: mean {statistics.mean(found):.1f}")

        sizes = {"town (0.08° × 0.05°, zoom ~13)": (0.08, 0.05),
                 "département (1.5° × 1°, zoom ~9)": (1.5, 1.0),
                 "France (14° × 10°, zoom ~6)": (14.0, 10.0)}
        everything, details = [], []
        for label, (width, height) in sizes.items():
            timings, features, clustered = [], [], 0
            CPU.clear()
            for run in range(args.runs // 3 + 10):
                _insee, _postcode, _name, lat, lon = rng.choice(communes)
                if width > 10:
                    lat, lon = 46.6, 2.4
                bbox = (f"{lon - width / 2:.4f},{lat - height / 2:.4f},"
                        f"{lon + width / 2:.4f},{lat + height / 2:.4f}")
                elapsed, body = measure(client, "/api/v1/places/geojson/", {"bbox": bbox})
                if run >= 10:
                    timings.append(elapsed)
                    features.append(len(body["features"]))
                    clustered += body["clustered"]
            everything += timings
            details.append((label, timings, features, clustered, CPU[10:]))
        cold = []
        CPU.clear()
        for run in range(args.runs // 3 + 10):
            places_changed()
            elapsed, _body = measure(client, "/api/v1/places/geojson/",
                                     {"bbox": "-4.6000,41.6000,9.4000,51.6000"})
            if run >= 10:
                cold.append(elapsed)
        print()
        for label, timings, features, clustered, cpu in details:
            report(f"viewport: {label}", timings, cpu=cpu)
            print(f"{'':<48} features: mean {statistics.mean(features):.0f}, "
                  f"max {max(features)}; clustered answers: {clustered}/{len(timings)}")
        report("viewport: all sizes", everything, target=100)
        report("viewport: France, cold cache (every request)", cold, cpu=CPU[10:])
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            setup_database(url, create=False)


if __name__ == "__main__":
    main()
