"""The search documents (design note 5): one row per formation, kept in step with the writes.

A DocumentRecherche holds what a search needs and nothing it must compute at query time:
- the text to search, weighted (intitulé > objectif > contenu > other words: the referentials'
  labels, the organisme's name), in the full-text index of the database in use;
- the criteria, denormalised: single values as columns (organisme, source, état, certifiante,
  niveaux, fonds publics, à distance, ESP, dates), multi-valued ones (codes, départements,
  communes, dispositifs, Carif numbers, numéros de marché, sessions' start dates) as rows of
  CritereRecherche, indexed by (nom, valeur).

`kind` says what the document reflects: the working copy of a formation (what the OF and the
équipe offre search, written by ofeli.recherche.index) or, for the public site, the formation's
current publication (kind "publication"); both use the same engine (ofeli.recherche.query).

Full text, per database (the engine picks the one in use):
- PostgreSQL: `search_vector`, a tsvector built with the text search configuration `ofeli_fr`
  (french with unaccent, created by migration 0002) and a GIN index;
- SQLite: one FTS5 table per kind (`table_fts`: `recherche_fts` for the working copies,
  `recherche_fts_publication` for the publications; migrations 0002, 0009; unicode61 remove_diacritics 2)
  whose rowid is the document's id, fed with text stemmed by ofeli.recherche.texte. `LigneFts` maps the
  working copies' table so that the ORM can join it; it is never written through the ORM.
"""

import datetime

from django.contrib.postgres.search import SearchVectorField
from django.db import models

# The stored next session of a document that has none (recherche.index.prochaine_session): sorts after any date.
SANS_PROCHAINE_SESSION = datetime.date(9999, 12, 31)


class Kind(models.TextChoices):
    OFFRE = "offre", "Offre (copie de travail)"
    PUBLICATION = "publication", "Publication validée"


# SQLite: the FTS5 table of each kind (migration 0009): a search reads its kind's full-text index only.
TABLES_FTS = {Kind.OFFRE: "recherche_fts", Kind.PUBLICATION: "recherche_fts_publication"}


def table_fts(kind: str) -> str:
    """The SQLite FTS5 table holding the documents of `kind` (a constant name: safe to put in SQL)."""
    return TABLES_FTS[kind]


class DocumentRecherche(models.Model):
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OFFRE)
    formation = models.ForeignKey("offre.Formation", on_delete=models.CASCADE, related_name="documents_recherche")
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="+")

    intitule = models.CharField("intitulé", max_length=255)
    intitule_tri = models.CharField(max_length=255, help_text="intitulé without accents nor case, to sort on")
    # The full text (intitulé A, objectif B, contenu C, other words D), built by the indexer.
    search_vector = SearchVectorField(null=True, editable=False, help_text="PostgreSQL only")
    # What ts_rank reads: intitulé (A) and objectif (B) only. Ranking costs per matching row and per
    # byte of vector; this one is a third of the full vector's size, so a very common word stays fast.
    # A match in contenu or the other words only ranks after them.
    vecteur_rang = SearchVectorField(null=True, editable=False, help_text="PostgreSQL only")

    # Single-valued criteria.
    source = models.CharField(max_length=20)
    etat = models.CharField("état", max_length=20)
    certifiante = models.BooleanField(default=False)
    niveau_entree = models.PositiveSmallIntegerField(null=True)
    niveau_sortie = models.PositiveSmallIntegerField(null=True)
    fonds_publics = models.BooleanField(default=False)
    a_distance = models.BooleanField("à distance", default=False)
    entree_sortie_permanente = models.BooleanField(default=False)
    premiere_session = models.DateField(null=True)
    derniere_session = models.DateField(null=True)
    # The first session start on or after `prochaine_au` (the day it was computed), stored so that sorting by
    # next session reads a column instead of the sessions. Still exact on a later day D as long as it is not
    # before D (the starts in between were all before it); ofeli.recherche.index.rafraichir_prochaines_sessions
    # recomputes the others before such a sort (and each night).
    # A document without a session to come holds SANS_PROCHAINE_SESSION (never NULL once computed): the sort walks
    # the index (kind, prochaine_session, intitule_tri) in its plain ascending order, which SQLite cannot do for
    # an order with NULLS LAST.
    prochaine_session = models.DateField(null=True)
    prochaine_au = models.DateField(null=True)
    mise_a_jour = models.DateTimeField("mise à jour le")
    indexe_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["formation", "kind"], name="recherche_document_unique")]
        indexes = [
            models.Index(fields=["kind", "etat"]),
            models.Index(fields=["kind", "organisme"]),
            models.Index(fields=["kind", "source"]),
            # The whole order of the intitulé and update sorts (formation_id breaks ties): the page is an index
            # walk that stops at its last row, never a sort of every document.
            models.Index(fields=["kind", "intitule_tri", "formation"]),
            models.Index(fields=["kind", "-mise_a_jour", "formation"]),
            models.Index(fields=["kind", "prochaine_session", "intitule_tri"]),
            # The public search hides formations whose sessions have all ended: its count reads this index alone.
            models.Index(fields=["kind", "derniere_session"]),
            models.Index(fields=["prochaine_au"]),
            # rafraichir_prochaines_sessions: the documents whose stored next session has started, without a scan.
            models.Index(fields=["prochaine_session"]),
        ]
        verbose_name = "document de recherche"
        verbose_name_plural = "documents de recherche"

    def __str__(self):
        return f"{self.intitule} ({self.get_kind_display()})"


class CritereRecherche(models.Model):
    """One value of a multi-valued criterion of a document (a code, a département, a session's start...)."""

    class Nom(models.TextChoices):
        FORMACODE = "formacode", "Formacode"
        NSF = "nsf", "NSF"
        ROME = "rome", "ROME"
        CERTIFICATION = "certif", "Code RNCP / RS"
        DEPARTEMENT = "dep", "Département"
        COMMUNE = "commune", "Commune"
        DISPOSITIF = "dispositif", "Dispositif"
        NUMERO = "numero", "Numéro Carif"
        MARCHE = "marche", "Numéro de marché"
        DEBUT = "debut", "Début de session (AAAA-MM-JJ)"

    document = models.ForeignKey(DocumentRecherche, on_delete=models.CASCADE, related_name="criteres")
    # The document's kind, repeated: a criterion (« département 45 ») then names only the documents of the kind
    # searched, from the index alone; without it a public search probed the working copy's documents too (a third
    # of them were publications), each probe a read of the document's row.
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OFFRE)
    nom = models.CharField(max_length=12, choices=Nom.choices)
    valeur = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "nom", "valeur"], name="recherche_critere_unique")]
        indexes = [models.Index(fields=["kind", "nom", "valeur", "document"], name="recherche_critere_kind_valeur")]

    def __str__(self):
        return f"{self.nom}={self.valeur}"


class Match(models.Lookup):
    """`column MATCH query` of FTS5 (SQLite only)."""

    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class Fts5Field(models.TextField):
    """FTS5's hidden column named after its table."""


Fts5Field.register_lookup(Match)


class LigneFts(models.Model):
    """The SQLite FTS5 table of the working copies (kind « offre »), mapped read-only so that the ORM can join it
    (never managed, never written): the formations' search (exports, bulk edit) reads that kind only.

    The join uses the UNINDEXED column `document_id` (equal to the rowid) rather than the rowid: FTS5 cannot
    use a constraint on it, so SQLite's planner always starts from the MATCH (cost per matching row) instead
    of probing the full-text index once per document (cost per document, whatever the words).
    """

    document = models.OneToOneField(
        DocumentRecherche,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="document_id",
        db_constraint=False,
        related_name="fts",
    )
    # FTS5's hidden column named after the table: the left side of MATCH and bm25()'s argument.
    texte = Fts5Field(db_column="recherche_fts")

    class Meta:
        managed = False
        db_table = "recherche_fts"

    def __str__(self):
        return f"FTS {self.pk}"
