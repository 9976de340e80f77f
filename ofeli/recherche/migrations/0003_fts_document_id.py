"""SQLite: the FTS5 table gets an UNINDEXED `document_id` column (equal to the rowid) to join on.

Joined on the rowid, SQLite's planner may probe the full-text index once per document instead of
starting from the MATCH; a join on an UNINDEXED column leaves it no such choice. The rows already
indexed are copied as they are. PostgreSQL: nothing to do.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE VIRTUAL TABLE recherche_fts_nouvelle USING fts5(
        titre, objectif, contenu, autres, document_id UNINDEXED,
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    INSERT INTO recherche_fts_nouvelle (rowid, titre, objectif, contenu, autres, document_id)
    SELECT rowid, titre, objectif, contenu, autres, rowid FROM recherche_fts
    """,
    "DROP TRIGGER IF EXISTS recherche_document_supprime",
    "DROP TABLE recherche_fts",
    "ALTER TABLE recherche_fts_nouvelle RENAME TO recherche_fts",
    """
    CREATE TRIGGER recherche_document_supprime AFTER DELETE ON recherche_documentrecherche
    BEGIN
        DELETE FROM recherche_fts WHERE rowid = old.id;
    END
    """,
]

BACKWARD = [
    """
    CREATE VIRTUAL TABLE recherche_fts_ancienne USING fts5(
        titre, objectif, contenu, autres,
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    INSERT INTO recherche_fts_ancienne (rowid, titre, objectif, contenu, autres)
    SELECT rowid, titre, objectif, contenu, autres FROM recherche_fts
    """,
    "DROP TRIGGER IF EXISTS recherche_document_supprime",
    "DROP TABLE recherche_fts",
    "ALTER TABLE recherche_fts_ancienne RENAME TO recherche_fts",
    """
    CREATE TRIGGER recherche_document_supprime AFTER DELETE ON recherche_documentrecherche
    BEGIN
        DELETE FROM recherche_fts WHERE rowid = old.id;
    END
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("recherche", "0002_moteurs_plein_texte")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
