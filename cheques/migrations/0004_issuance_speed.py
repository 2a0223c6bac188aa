"""Issuance speed: no database foreign-key constraint from cheque to booklet (see the
comment on Cheque.booklet); the index on cheque.booklet_id stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cheques", "0003_redemptions")]

    operations = [
        migrations.AlterField(
            model_name="cheque",
            name="booklet",
            field=models.ForeignKey(db_constraint=False,
                                    on_delete=django.db.models.deletion.PROTECT,
                                    related_name="cheques", to="cheques.booklet",
                                    verbose_name="carnet"),
        ),
    ]
