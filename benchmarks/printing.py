"""Benchmark of the cheque-book PDF engine (no database needed).

    .venv/bin/python benchmarks/printing.py            # 10,000 and 50,000 cheques + naive
    .venv/bin/python benchmarks/printing.py --sizes 2000 --naive 100
    .venv/bin/python benchmarks/printing.py --celery 10000   # database + Celery, see below

End to end means: build the cheque data (codes, signed QR URLs), render chunks of 500
cheques in parallel worker processes (as the Celery chunk tasks do), each rendering its
design once with WeasyPrint and stamping every page, then merge the chunks into one PDF.
Booklets hold 10 cheques. Every measurement runs in a fresh process, so peak memory (VmHWM
of the parent, largest ru_maxrss of its children) belongs to that measurement alone.

With ``--celery N`` (needs DATABASE_URL, migrated, and REDIS_URL): the whole production path.
An order of N cheques is issued in the database, which starts its printing; a real Celery
worker (one process per CPU) plans the chunks, renders them from the database in parallel
and merges them. Timed from the issuance's commit to the job's ``printed`` state; peak RSS
is the largest VmHWM among the worker's processes.

The naive reference renders a sample as ONE WeasyPrint HTML document with inline SVG QR
codes (segno), the same design without stamping.
"""

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aptic.settings")

import django  # noqa: E402

django.setup()

from django.template.loader import render_to_string  # noqa: E402

from aptic.pdf import html_to_pdf  # noqa: E402
from cheques import codes  # noqa: E402
from cheques.pdf import booklets as engine  # noqa: E402
from cheques.pdf.booklets import (  # noqa: E402
    BookletData,
    ChequeData,
    merge_chunks,
    render_booklets,
)

PER_BOOKLET = 10
CHUNK_CHEQUES = 500


def make_booklets(first, count):
    """`count` booklets of 10 fresh cheques, numbered from booklet `first`."""
    booklets = []
    for index in range(first, first + count):
        number = f"2026-{index + 1:06d}"
        cheques = [ChequeData(f"{number}-{position:02d}", codes.format_code(code),
                              codes.qr_url(code))
                   for position, code in enumerate(codes.generate_codes(PER_BOOKLET), 1)]
        booklets.append(BookletData(
            number=number, funder_name="Département de la Gironde", face_value_cents=1000,
            valid_until=date(2026, 12, 31), map_url="https://aptic.example.org/carte/",
            cheques=cheques,
            custom_wording="Le Département vous offre ce carnet pour apprendre à utiliser "
                           "internet et faire vos démarches en ligne.",
            allowed_services=[]))
    return booklets


def render_chunk(job):
    first, count, path = job
    report = render_booklets(make_booklets(first, count), path)
    return report.cheques


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure_fast(cheques, processes):
    booklets = cheques // PER_BOOKLET
    per_chunk = CHUNK_CHEQUES // PER_BOOKLET
    with tempfile.TemporaryDirectory() as workdir:
        jobs = [(first, min(per_chunk, booklets - first),
                 os.path.join(workdir, f"chunk-{first // per_chunk:05d}.pdf"))
                for first in range(0, booklets, per_chunk)]
        out = os.path.join(workdir, "order.pdf")
        started = time.perf_counter()
        if processes > 1:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                done = sum(pool.imap_unordered(render_chunk, jobs))
        else:
            done = sum(render_chunk(job) for job in jobs)
        rendered = time.perf_counter()
        pages = merge_chunks([job[2] for job in jobs], out)
        elapsed = time.perf_counter() - started
        size = os.path.getsize(out)
    assert done == cheques and pages == booklets * 3, (done, pages)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"cheques": cheques, "processes": processes, "seconds": round(elapsed, 2),
            "render_seconds": round(rendered - started, 2),
            "merge_seconds": round(elapsed - (rendered - started), 2),
            "cheques_per_second": round(cheques / elapsed), "pages": pages,
            "megabytes": round(size / 1e6, 1), "parent_peak_mb": round(peak_rss_mb()),
            "child_peak_mb": round(children)}


def render_booklets_naive(booklets, out):
    """The design of cheques.pdf.booklets the slow way, the reference of the fast path: ONE
    WeasyPrint document of every page, numbers, codes and inline SVG QR codes included (no
    stamping). The booklets share one layout (the first booklet's funder, value, wording)."""
    report = engine.RenderReport()
    pages = []
    for booklet in booklets:
        pages.append({"kind": "cover", "number": booklet.number})
        for start in range(0, len(booklet.cheques), engine.SLOTS_PER_PAGE):
            pages.append({"kind": "cheques", "slots": [
                {"number": c.number, "code": c.code_display, "qr": engine._qr_svg(c.qr_payload),
                 "top": engine._slot_top(index)}
                for index, c in enumerate(booklet.cheques[start:start + engine.SLOTS_PER_PAGE])
            ]})
    html = render_to_string("cheques/print/document.html",
                            engine._context(booklets[0], pages, report))
    with open(out, "wb") as fileobj:
        fileobj.write(html_to_pdf(html))
    report.booklets = len(booklets)
    report.cheques = sum(len(booklet.cheques) for booklet in booklets)
    report.pages = len(pages)
    return report


def measure_naive(cheques):
    booklets = make_booklets(0, cheques // PER_BOOKLET)
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        report = render_booklets_naive(booklets, os.path.join(workdir, "naive.pdf"))
        elapsed = time.perf_counter() - started
    return {"cheques": report.cheques, "seconds": round(elapsed, 2),
            "cheques_per_second": round(report.cheques / elapsed, 1),
            "parent_peak_mb": round(peak_rss_mb())}


def sample_logo():
    """A stand-in funder logo for the design pictures."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 596, 196), radius=30, outline=(120, 20, 60), width=8)
    font = ImageFont.truetype(str(ROOT / "static/fonts/dejavu/DejaVuSans-Bold.ttf"), 52)
    draw.text((300, 100), "Logo du financeur", fill=(120, 20, 60), font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def write_design_pictures(directory):
    """docs/print-cover.png and docs/print-cheques.png: the first page of each layout."""
    import dataclasses

    import pypdfium2

    booklet = dataclasses.replace(
        make_booklet_sample(), logo_bytes=sample_logo(), logo_content_type="image/png",
        allowed_services=["Accompagnement individuel aux démarches en ligne (1 h)",
                          "Atelier collectif démarches en ligne (2 h)",
                          "Prendre en main un smartphone ou une tablette (1 h)"],
        territory=["Gironde (33)"], requires_activation=True,
        map_url="https://aptic.example.org/lieux/?service=demarches-accompagnement,"
                "demarches-atelier,outils-smartphone&department=33")
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "sample.pdf")
        render_booklets([booklet], path)
        document = pypdfium2.PdfDocument(path)
        for index, name in ((0, "print-cover.png"), (1, "print-cheques.png")):
            image = document[index].render(scale=110 / 72).to_pil()
            image.save(os.path.join(directory, name), optimize=True)
            print("wrote", os.path.join(directory, name))


def make_booklet_sample():
    return make_booklets(122, 1)[0]


def in_fresh_process(*args):
    result = subprocess.run([sys.executable, __file__, "--one", *map(str, args)],
                            check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _worker_processes(pid):
    """The worker's main process and its pool processes."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(child) for child in children)
    return pids


def _peak_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def measure_celery(cheques):
    """Issue an order of `cheques` cheques and let a real Celery worker print it."""
    from django.db import connection, transaction

    from aptic.celery import app
    from aptic.models import Organisation
    from cheques import issuance, ordering
    from cheques.models import Order, PrintJob

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise SystemExit("--celery needs DATABASE_URL (Postgres, migrated) and REDIS_URL.")
    processes = os.cpu_count()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aptic", "worker", "--pool=prefork",
         f"--concurrency={processes}", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle", "-n", f"bench-{os.getpid()}@%h"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not app.control.inspect(timeout=1).ping():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("The Celery worker did not start.")
        funder, _created = Organisation.objects.get_or_create(
            name="Banc d’essai de l’impression", kind=Organisation.Kind.FUNDER)
        with transaction.atomic():
            order = ordering.create_order(
                funder=funder, created_by=None, booklets=cheques // PER_BOOKLET,
                cheques_per_booklet=PER_BOOKLET, contact_name="Banc d’essai",
                contact_email="banc@aptic.example",
                custom_wording="Le Département vous offre ce carnet.")
            Order.objects.filter(pk=order.pk).update(status=Order.Status.APPROVED)
        issuance.issue_order(order.pk)  # commits, then queues the printing
        started = time.perf_counter()
        job = PrintJob.objects.get(order=order)
        while job.state not in (PrintJob.State.PRINTED, PrintJob.State.FAILED):
            time.sleep(0.2)
            job.refresh_from_db()
        elapsed = time.perf_counter() - started
        peak = max(_peak_mb(pid) for pid in _worker_processes(worker.pid))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    if job.state != PrintJob.State.PRINTED:
        raise SystemExit(f"printing failed: {job.error}")
    from cheques.printing import file_path

    size = file_path(job).stat().st_size
    return {"cheques": job.total, "processes": processes, "seconds": round(elapsed, 2),
            "cheques_per_second": round(job.total / elapsed), "pages": job.pages,
            "chunks": job.chunk_count, "megabytes": round(size / 1e6, 1),
            "worker_peak_mb": round(peak)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--naive", type=int, default=200, help="naive sample (cheques)")
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--docs", action="store_true",
                        help="only write the design pictures under docs/")
    parser.add_argument("--celery", type=int, nargs="+", metavar="CHEQUES",
                        help="print orders of these sizes through the database and Celery")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.docs:
        write_design_pictures(ROOT / "docs")
        return
    if args.celery:
        for size in args.celery:
            result = measure_celery(size)
            print(f"database + Celery, {result['cheques']:,} cheques, {result['processes']} "
                  f"worker process(es), {result['chunks']} chunks: {result['seconds']} s, "
                  f"{result['cheques_per_second']:,} cheques/s; {result['pages']:,} pages, "
                  f"{result['megabytes']} MB; peak RSS of a worker process "
                  f"{result['worker_peak_mb']} MB")
        return
    if args.one:
        kind, *rest = args.one
        if kind == "naive":
            result = measure_naive(int(rest[0]))
        else:
            result = measure_fast(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    print(f"{os.cpu_count()} CPU(s), {args.processes} worker process(es), "
          f"chunks of {CHUNK_CHEQUES} cheques, booklets of {PER_BOOKLET}")
    naive = in_fresh_process("naive", args.naive)
    print(f"naive (one WeasyPrint document, inline SVG QR), {naive['cheques']} cheques: "
          f"{naive['seconds']} s, {naive['cheques_per_second']} cheques/s, "
          f"peak RSS {naive['parent_peak_mb']} MB")
    for size in args.sizes:
        for processes in sorted({1, args.processes}, reverse=True):
            if processes == 1 and size != args.sizes[0]:
                continue
            fast = in_fresh_process("fast", size, processes)
            ratio = fast["cheques_per_second"] / naive["cheques_per_second"]
            print(f"fast, {size:,} cheques, {processes} process(es): {fast['seconds']} s "
                  f"(render {fast['render_seconds']} s + merge {fast['merge_seconds']} s), "
                  f"{fast['cheques_per_second']:,} cheques/s = {ratio:.1f}x naive; "
                  f"{fast['pages']:,} pages, {fast['megabytes']} MB; peak RSS parent "
                  f"{fast['parent_peak_mb']} MB, largest worker {fast['child_peak_mb']} MB")


if __name__ == "__main__":
    main()
