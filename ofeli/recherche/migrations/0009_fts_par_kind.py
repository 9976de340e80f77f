"""SQLite: one FTS5 table per kind of document; the publications' rows move to `recherche_fts_publication`.

A word found in most formations matched both kinds' rows in one table: a public search for « formation » read
150,000 rowids to keep 50,000 (docs/decisions/recherche-couts.md). Each kind now has its own table, so a search
reads its kind's index only, and bm25's statistics (document frequency, average length) are those of the kind
searched. `recherche_fts` keeps the working copies (kind « offre », which the ORM joins through LigneFts).
The rows are moved as they are; the trigger removes a deleted document's row from both tables.
PostgreSQL: nothing to do (its GIN indexes are already one per kind, migration 0006).
"""

from django.db import migrations

TRIGGER_UNE_TABLE = """
    CREATE TRIGGER recherche_document_supprime AFTER DELETE ON recherche_documentrecherche
    BEGIN
        DELETE FROM recherche_fts WHERE rowid = old.id;
    END
"""

FORWARD = [
    """
    CREATE VIRTUAL TABLE recherche_fts_publication USING fts5(
        titre, objectif, contenu, autres, document_id UNINDEXED,
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    INSERT INTO recherche_fts_publication (rowid, titre, objectif, contenu, autres, document_id)
    SELECT rowid, titre, objectif, contenu, autres, document_id FROM recherche_fts
    WHERE rowid IN (SELECT id FROM recherche_documentrecherche WHERE kind = 'publication')
    """,
    "DELETE FROM recherche_fts WHERE rowid IN (SELECT id FROM recherche_documentrecherche WHERE kind = 'publication')",
    # Merge the index's segments after the moves, as FTS5's 'optimize' command does.
    "INSERT INTO recherche_fts (recherche_fts) VALUES ('optimize')",
    "INSERT INTO recherche_fts_publication (recherche_fts_publication) VALUES ('optimize')",
    "DROP TRIGGER IF EXISTS recherche_document_supprime",
    """
    CREATE TRIGGER recherche_document_supprime AFTER DELETE ON recherche_documentrecherche
    BEGIN
        DELETE FROM recherche_fts WHERE rowid = old.id;
        DELETE FROM recherche_fts_publication WHERE rowid = old.id;
    END
    """,
]

BACKWARD = [
    """
    INSERT INTO recherche_fts (rowid, titre, objectif, contenu, autres, document_id)
    SELECT rowid, titre, objectif, contenu, autres, document_id FROM recherche_fts_publication
    """,
    "DROP TRIGGER IF EXISTS recherche_document_supprime",
    "DROP TABLE recherche_fts_publication",
    TRIGGER_UNE_TABLE,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("recherche", "0008_critere_kind")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
