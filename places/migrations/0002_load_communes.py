"""Load the gazetteer of communes shipped in places/data/communes.csv.gz, so that search by
postcode or town works right after `migrate` (idempotent: upsert by INSEE code and postcode).
"""

from django.db import migrations


def load_communes(apps, schema_editor):
    from places import gazetteer

    gazetteer.load(model=apps.get_model("places", "Commune"))


class Migration(migrations.Migration):

    dependencies = [
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_communes, migrations.RunPython.noop, elidable=True),
    ]
