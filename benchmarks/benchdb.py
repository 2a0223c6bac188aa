"""What every benchmark needs from Postgres: its own database on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432), created and dropped by the benchmark."""

import os
import sys
from urllib.parse import urlsplit, urlunsplit


def server_url(name):
    """The URL of database `name` on the server that DATABASE_URL points to."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point to a Postgres server.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def admin_sql(*statements, database="postgres"):
    """Run statements (CREATE/DROP DATABASE, VACUUM…) outside any transaction, as the server
    admin, in `database`."""
    import psycopg

    with psycopg.connect(server_url(database), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def recreate_database(name):
    admin_sql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")


def drop_database(name):
    from django.db import connections

    connections.close_all()
    admin_sql(f"DROP DATABASE IF EXISTS {name}")


# Benchmarks run the production settings (DEBUG=0), which refuse to start without the
# operator's own details and explicit QR signing keys: these are the benchmark's.
PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "bench-" + "s3cr3t" * 10, "SECURE_SSL_REDIRECT": "0",
    "CHEQUE_SIGNING_KEYS": "b1:" + "b3nch-k3y-" * 5,
    "OPERATOR_IBAN": "FR7630006000011234567890189", "OPERATOR_BIC": "AGRIFRPP",
    "OPERATOR_SIRET": "73282932000074", "DJANGO_SETTINGS_MODULE": "aptic.settings",
}
