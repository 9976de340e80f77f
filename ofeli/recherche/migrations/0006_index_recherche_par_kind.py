"""Indexes per kind of document.

- (kind, intitule_tri, formation) and (kind, -mise_a_jour, formation): the whole order of these sorts, so that a
  page is an index walk (SQLite sorted every document of the kind with the former two-column indexes).
- (kind, derniere_session): the public search's count (formations with a session not ended) from the index alone.
- PostgreSQL: the GIN index of the full text split per kind (working copy, publication). A search always names
  its kind; with one index for both, PostgreSQL matched the words in every document, then read each candidate's
  row to check its kind, or preferred reading the table and each (TOASTed) vector. A partial index per kind
  answers « these words, this kind » alone, and its candidates need no vector read (docs/performance.md).
"""

from django.db import migrations, models

PG_FORWARD = [
    "CREATE INDEX IF NOT EXISTS recherche_document_fts_offre ON recherche_documentrecherche"
    " USING GIN (search_vector) WHERE kind = 'offre'",
    "CREATE INDEX IF NOT EXISTS recherche_document_fts_publication ON recherche_documentrecherche"
    " USING GIN (search_vector) WHERE kind = 'publication'",
    "DROP INDEX IF EXISTS recherche_document_fts",
]
PG_BACKWARD = [
    "CREATE INDEX IF NOT EXISTS recherche_document_fts ON recherche_documentrecherche USING GIN (search_vector)",
    "DROP INDEX IF EXISTS recherche_document_fts_offre",
    "DROP INDEX IF EXISTS recherche_document_fts_publication",
]


def _pg(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("offre", "0003_reconduction"),
        ("organismes", "0002_demande_modification_identite"),
        ("recherche", "0005_prochaine_session_stockee"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="documentrecherche",
            name="recherche_d_kind_8f7355_idx",
        ),
        migrations.RemoveIndex(
            model_name="documentrecherche",
            name="recherche_d_kind_91aaca_idx",
        ),
        migrations.AddIndex(
            model_name="documentrecherche",
            index=models.Index(fields=["kind", "intitule_tri", "formation"], name="recherche_d_kind_5d6379_idx"),
        ),
        migrations.AddIndex(
            model_name="documentrecherche",
            index=models.Index(fields=["kind", "-mise_a_jour", "formation"], name="recherche_d_kind_447d6b_idx"),
        ),
        migrations.AddIndex(
            model_name="documentrecherche",
            index=models.Index(fields=["kind", "derniere_session"], name="recherche_d_kind_0e0f27_idx"),
        ),
        migrations.RunPython(_pg(PG_FORWARD), _pg(PG_BACKWARD)),
    ]
