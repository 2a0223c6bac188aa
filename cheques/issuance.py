"""Issuance: an approved order becomes booklets and cheques, all at once or not at all.

On Postgres the booklets are inserted in one statement, the cheques and their audit rows are
written with ``COPY`` (psycopg 3), all in the one transaction that also marks the order
issued, so a failure leaves no partial batch. On SQLite (the zero-setup demo) it falls back
to ``bulk_create``.

The hot loop is built from whole-buffer operations: codes come as one byte string
(cheques.codes.generate_block) and every ``COPY`` row of a chunk has the same width, so the
code column is written into the buffer with one strided slice assignment per character.

Codes are unique through the database's unique index; on a (astronomically unlikely)
collision the whole transaction fails and the issuance is retried from scratch.
"""

import datetime
import json
import struct

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.models import AuditEvent

from . import codes, ledger
from .models import Booklet, BookletSequence, Cheque, Order
from .printing import start_printing_after_issuance

CHUNK_BOOKLETS = 5000
ATTEMPTS = 3
MAX_SEQUENCE = 999_999


class IssuanceError(Exception):
    pass


def progress_key(order_id):
    return f"cheques:issuance-progress:{order_id}"


def progress(order):
    """How far the issuance of `order` is: cheques written so far (the cache while the
    issuing transaction runs, then the row), out of how many, and the percent shown."""
    total = order.cheque_count
    if order.status == Order.Status.ISSUED:
        return {"issued": total, "total": total, "percent": 100}
    done = (cache.get(progress_key(order.pk), 0) if order.status == Order.Status.APPROVED
            else order.issued_cheques)
    return {"issued": done, "total": total,
            "percent": min(100, done * 100 // total) if total else 0}


def allocate_booklet_numbers(count, year):
    """Reserve `count` consecutive booklet numbers of `year`; returns the first sequence
    number (see YearlySequence.reserve: a rolled-back issuance reuses nothing that was
    used)."""
    last = BookletSequence.reserve(year, count)
    first = last - count + 1
    if last > MAX_SEQUENCE:
        raise IssuanceError(_("Plus aucun numéro de carnet disponible pour %(year)s.")
                            % {"year": year})
    return first


def issue_order(order_id, *, actor=None):
    """Issue an approved order (idempotent: an order already issued is left as it is)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _issue(order_id, actor)
        except IntegrityError as error:
            if "code" not in str(error) or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _issue(order_id, actor):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.APPROVED:
            return order
        now = timezone.now()
        year = timezone.localdate().year
        first = allocate_booklet_numbers(order.booklets, year)
        numbers = [f"{year}-{sequence:06d}" for sequence in range(first, first + order.booklets)]
        cache.set(progress_key(order.pk), 0, timeout=24 * 3600)
        if connection.vendor == "postgresql":
            _write_with_copy(order, numbers, now, actor)
        else:
            _write_with_bulk_create(order, numbers, now, actor)
        order.status = Order.Status.ISSUED
        order.issued_cheques = order.cheque_count
        order.issued_at = now
        order.save(update_fields=["status", "issued_cheques", "issued_at", "updated_at"])
        audit.record(actor, order, "order.issued", Order.Status.APPROVED, Order.Status.ISSUED,
                     booklets=order.booklets, cheques=order.cheque_count,
                     first_booklet=numbers[0], last_booklet=numbers[-1])
        ledger.issued(order, actor=actor)
        transaction.on_commit(lambda: start_printing_after_issuance(order_id))
    cache.delete(progress_key(order.pk))
    return order


# --- Postgres: COPY ------------------------------------------------------------------------


def _copy(cursor, table, columns, buffer):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer)


def _insert_booklets(cursor, order, numbers, now):
    """Insert the order's booklets in one statement and return their ids in the order of
    `numbers`, so the cheque rows can point at them without another trip."""
    cursor.execute(
        f"INSERT INTO {Booklet._meta.db_table} (order_id, number, state, state_changed_at, "
        "age_bracket, postcode, situation, cancellation_reason) "
        "SELECT %s, number, %s, %s, '', '', '', '' FROM unnest(%s::text[]) AS number "
        "RETURNING id, number",
        [order.pk, Booklet.State.ISSUED, now, numbers])
    id_of = {number: booklet_id for booklet_id, number in cursor.fetchall()}
    return [id_of[number] for number in numbers]


def _write_with_copy(order, numbers, now, actor):
    """One INSERT for the booklets, then two COPY statements: cheques (binary, streamed chunk
    by chunk) and audit rows.

    The cheque chunks go through psycopg's queued writer: a worker thread sends chunk k to
    the server while this thread builds chunk k + 1, so the two CPUs work at the same time.
    The commit does not wait for the WAL flush (``synchronous_commit = off`` for this
    transaction only): a crash in the following fraction of a second can lose the whole
    issuance, never part of it, and the order then stays approved and is issued again.
    """
    from psycopg.copy import QueuedLibpqWriter

    stamp = now.isoformat()
    # wrap_database_errors: psycopg's own errors from COPY become Django's (IntegrityError
    # on a code collision, which issue_order retries).
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        booklet_ids = _insert_booklets(cursor, order, numbers, now)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {Cheque._meta.db_table} ({', '.join(CHEQUE_COLUMNS)}) "
                      "FROM STDIN WITH (FORMAT BINARY)", writer=QueuedLibpqWriter(raw)) as copy:
            copy.write(_BINARY_SIGNATURE)
            for start in range(0, len(numbers), CHUNK_BOOKLETS):
                stop = start + CHUNK_BOOKLETS
                copy.write(_cheque_rows(order, booklet_ids[start:stop], numbers[start:stop],
                                        now))
                cache.set(progress_key(order.pk),
                          min(stop, len(numbers)) * order.cheques_per_booklet,
                          timeout=24 * 3600)
            copy.write(_BINARY_TRAILER)
        _copy(cursor, AuditEvent._meta.db_table,
              ["actor_id", "at", "content_type_id", "object_id", "object_repr", "action",
               "from_state", "to_state", "details"],
              _audit_rows(order, booklet_ids, numbers, stamp, actor))


# COPY's binary format: a signature, then rows of (field count, then length + bytes for each
# field), then a trailer. The server skips parsing text (timestamps above all): about a third
# less server time than the text format for the same rows.
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = struct.pack("!h", -1)
_POSTGRES_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
CHEQUE_COLUMNS = ["booklet_id", "order_id", "number", "code", "face_value_cents", "state",
                  "state_changed_at", "cancellation_reason"]


def _cheque_rows(order, booklet_ids, numbers, now):
    """One fixed-width binary COPY row per cheque (columns: CHEQUE_COLUMNS); the codes are
    dropped in column by column with strided slice assignments."""
    per_booklet = order.cheques_per_booklet
    microseconds = (now - _POSTGRES_EPOCH) // datetime.timedelta(microseconds=1)
    placeholder = b"_" * codes.LENGTH
    tails = [
        f"-{position:02d}".encode() + struct.pack("!i", codes.LENGTH) + placeholder
        + struct.pack("!ii", 4, order.face_value_cents) + struct.pack("!i", 6) + b"issued"
        + struct.pack("!iqi", 8, microseconds, 0)
        for position in range(1, per_booklet + 1)
    ]
    head = struct.Struct("!hiqiqi")
    number_length = len(numbers[0]) + 3
    buffer = bytearray(b"".join(
        head.pack(8, 8, booklet_id, 8, order.pk, number_length) + number.encode() + tail
        for booklet_id, number in zip(booklet_ids, numbers, strict=True)
        for tail in tails
    ))
    count = len(numbers) * per_booklet
    row_width = len(buffer) // count
    offset = buffer.index(placeholder)
    block = codes.generate_block(count)
    for char in range(codes.LENGTH):
        buffer[offset + char::row_width] = block[char::codes.LENGTH]
    return buffer


def _audit_rows(order, booklet_ids, numbers, stamp, actor):
    content_type = ContentType.objects.get_for_model(Booklet).pk
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else "\\N"
    details = json.dumps({"cheques": order.cheques_per_booklet, "order": order.pk})
    label = _("Carnet %(number)s")
    return "".join(
        f"{actor_id}\t{stamp}\t{content_type}\t{booklet_id}\t"
        f"{label % {'number': number}}\tbooklet.issued\t\tissued\t{details}\n"
        for booklet_id, number in zip(booklet_ids, numbers, strict=True)
    ).encode()


# --- SQLite and other databases: bulk_create -----------------------------------------------


def _write_with_bulk_create(order, numbers, now, actor):
    for start in range(0, len(numbers), CHUNK_BOOKLETS):
        chunk = numbers[start:start + CHUNK_BOOKLETS]
        booklets = Booklet.objects.bulk_create(
            [Booklet(order=order, number=number, state_changed_at=now) for number in chunk]
        )
        if any(booklet.pk is None for booklet in booklets):
            booklets = list(Booklet.objects.filter(order=order, number__in=chunk))
        fresh = iter(codes.generate_codes(len(chunk) * order.cheques_per_booklet))
        Cheque.objects.bulk_create(
            [
                Cheque(booklet=booklet, order=order, number=f"{booklet.number}-{position:02d}",
                       code=next(fresh), face_value_cents=order.face_value_cents,
                       state_changed_at=now)
                for booklet in booklets
                for position in range(1, order.cheques_per_booklet + 1)
            ],
            batch_size=2000,
        )
        audit.record_many(actor, booklets, "booklet.issued", "", Booklet.State.ISSUED,
                          cheques=order.cheques_per_booklet, order=order.pk)
        cache.set(progress_key(order.pk), (start + len(chunk)) * order.cheques_per_booklet,
                  timeout=24 * 3600)
