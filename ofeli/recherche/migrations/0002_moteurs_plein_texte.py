"""Full-text engines, one per database (the other database skips the step).

PostgreSQL: the unaccent extension, a text search configuration `ofeli_fr` (a copy of `french`
whose word mappings go through unaccent before the French Snowball stemmer), and a GIN index
on the documents' tsvector.

SQLite: the FTS5 table `recherche_fts` (rowid = the document's id) with the unicode61
tokenizer removing diacritics; the indexer feeds it text already stemmed in French
(ofeli.recherche.texte), since FTS5 has no French stemmer. A trigger removes a document's row
when the document is deleted (a formation deleted cascades to its documents).
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'ofeli_fr') THEN
            CREATE TEXT SEARCH CONFIGURATION ofeli_fr (COPY = french);
            ALTER TEXT SEARCH CONFIGURATION ofeli_fr
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
        END IF;
    END
    $$
    """,
    "CREATE INDEX recherche_document_fts ON recherche_documentrecherche USING GIN (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS recherche_document_fts",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS ofeli_fr",
]

SQLITE_FORWARD = [
    """
    CREATE VIRTUAL TABLE recherche_fts USING fts5(
        titre, objectif, contenu, autres,
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER recherche_document_supprime AFTER DELETE ON recherche_documentrecherche
    BEGIN
        DELETE FROM recherche_fts WHERE rowid = old.id;
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS recherche_document_supprime",
    "DROP TABLE IF EXISTS recherche_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if not statements:
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("recherche", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
