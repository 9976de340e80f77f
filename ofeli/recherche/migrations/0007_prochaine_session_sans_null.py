"""A document without a session to come stores SANS_PROCHAINE_SESSION (9999-12-31) rather than NULL, so that the sort
by next session is a plain ascending index walk on SQLite too; an index on prochaine_session for the refresh."""

from django.db import migrations, models


def sans_null(apps, schema_editor):
    apps.get_model("recherche", "DocumentRecherche").objects.filter(
        prochaine_session__isnull=True, prochaine_au__isnull=False
    ).update(prochaine_session="9999-12-31")


class Migration(migrations.Migration):

    dependencies = [
        ('offre', '0004_index_liste_et_file'),
        ('organismes', '0002_demande_modification_identite'),
        ('recherche', '0006_index_recherche_par_kind'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='documentrecherche',
            index=models.Index(fields=['prochaine_session'], name='recherche_d_prochai_d117f7_idx'),
        ),
        migrations.RunPython(sans_null, migrations.RunPython.noop, elidable=True),
    ]
