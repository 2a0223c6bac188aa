"""On Postgres, codes and numbers use the "C" collation (cheaper unique indexes for COPY).
SQLite compares bytes already; the model state is unchanged, so this is database-only."""

from django.db import migrations

COLUMNS = [("cheques_cheque", "code", 13), ("cheques_cheque", "number", 14),
           ("cheques_booklet", "number", 11)]


def to_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(
            f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "C"'
        )


def to_default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, length in COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) "
            'COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("cheques", "0001_initial")]

    operations = [migrations.RunPython(to_c, to_default)]
