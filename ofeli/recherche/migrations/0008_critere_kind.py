"""Each criterion repeats its document's kind, first in the criteria's index: a criterion of a public search names
only publications' documents (and the staff's only the working copy's) from the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recherche", "0007_prochaine_session_sans_null"),
    ]

    operations = [
        migrations.AddField(
            model_name="critererecherche",
            name="kind",
            field=models.CharField(
                choices=[("offre", "Offre (copie de travail)"), ("publication", "Publication validée")],
                default="offre",
                max_length=12,
            ),
        ),
        migrations.RunSQL(
            "UPDATE recherche_critererecherche SET kind = 'publication' WHERE document_id IN "
            "(SELECT id FROM recherche_documentrecherche WHERE kind = 'publication')",
            migrations.RunSQL.noop,
            elidable=True,
        ),
        migrations.RemoveIndex(
            model_name="critererecherche",
            name="recherche_critere_valeur",
        ),
        migrations.AddIndex(
            model_name="critererecherche",
            index=models.Index(fields=["kind", "nom", "valeur", "document"], name="recherche_critere_kind_valeur"),
        ),
    ]
