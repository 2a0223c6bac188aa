from django.db import migrations

from services.nomenclature import seed


def seed_nomenclature(apps, schema_editor):
    seed(apps.get_model("services", "Category"), apps.get_model("services", "Service"))


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]

    operations = [migrations.RunPython(seed_nomenclature, migrations.RunPython.noop)]
