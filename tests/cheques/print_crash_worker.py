"""The project's Celery app with crashes wired in, for the printing tests:

    celery -A tests.cheques.print_crash_worker worker …

Production code has no test hook: this module wraps `cheques.pdf.booklets.render_booklets` in
each worker process. Its environment says what to do:

- CRASH_ONCE_ENV names a file: the first chunk to see it deletes it, leaves its file half
  written and kills its own worker process (SIGKILL), as a crash would;
- HOLD_ENV names a folder: every chunk from HOLD_FROM_CHUNK on leaves its file half written,
  drops a file "holding-<pid>" in that folder and waits, so that the test can kill the
  whole worker in the middle of the job.
"""

import os
import signal
import time
from pathlib import Path

from celery.signals import worker_process_init

from aptic.celery import app  # noqa: F401  (what `celery -A` looks for)

CRASH_ONCE_ENV = "APTIC_TEST_PRINT_CRASH_ONCE"
HOLD_ENV = "APTIC_TEST_PRINT_HOLD"
HOLD_FROM_CHUNK = 2


def _half_written(out):
    with open(out, "r+b") as half:
        half.truncate(os.path.getsize(out) // 2)


def _chunk_index(out):
    # cheques.printing names a chunk's file "morceau-<rank>.pdf" (plus an attempt suffix).
    return int(Path(out).name.split("-")[1].split(".")[0])


def _crash_once():
    flag = os.environ.get(CRASH_ONCE_ENV)
    if not flag:
        return False
    try:
        os.unlink(flag)
    except FileNotFoundError:
        return False
    return True


@worker_process_init.connect
def _wire_crashes(**_kwargs):
    from cheques.pdf import booklets as booklet_pdf

    render_booklets = booklet_pdf.render_booklets

    def crashing_render_booklets(booklets, out, **kwargs):
        report = render_booklets(booklets, out, **kwargs)
        if _crash_once():
            _half_written(out)
            os.kill(os.getpid(), signal.SIGKILL)
        hold = os.environ.get(HOLD_ENV)
        if hold and _chunk_index(out) >= HOLD_FROM_CHUNK:
            _half_written(out)
            Path(hold, f"holding-{os.getpid()}").touch()
            while True:  # until the test kills the whole worker
                time.sleep(60)
        return report

    booklet_pdf.render_booklets = crashing_render_booklets
