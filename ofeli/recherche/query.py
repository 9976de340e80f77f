"""The search engine: criteria → a queryset of formations, filtered, ranked and sorted.

Everything is read from the search documents (ofeli.recherche.models). The filters are plain
conditions on the document and its indexed criteria, so the database cuts the candidate set
before it ranks: ranking costs per matching row, and a common word with a filter stays fast.

Full text, same behaviour on both databases (accents, case and plurals do not matter):
- PostgreSQL: websearch_to_tsquery with the `ofeli_fr` configuration on the full vector (GIN), ts_rank
  on the smaller vector of the intitulé and objectif (models.DocumentRecherche.vecteur_rang);
- SQLite: FTS5 MATCH of the query normalised like the indexed text (ofeli.recherche.texte), bm25
  with the same weights order (intitulé > objectif > contenu > other words).

The engine works on a queryset of Formation joined to the document of a given kind; the
public site can call `rechercher` with kind "publication".
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import BigAutoField, DateField, F, FilteredRelation, FloatField, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import GreaterThanOrEqual, In, LessThanOrEqual
from django.utils import timezone

from . import texte as texte_fr
from .index import rafraichir_prochaines_sessions
from .models import CritereRecherche, DocumentRecherche, Kind, table_fts

Nom = CritereRecherche.Nom
PG_CONFIG = "ofeli_fr"
# bm25 column weights for (titre, objectif, contenu, autres, document_id), as ts_rank's A, B, C, D.
BM25_POIDS = (10.0, 4.0, 2.0, 1.0, 0.0)


class Tri:
    PERTINENCE = "pertinence"
    INTITULE = "intitule"
    MISE_A_JOUR = "mise_a_jour"
    PROCHAINE_SESSION = "prochaine_session"

    CHOICES = [
        (PERTINENCE, "Pertinence"),
        (INTITULE, "Intitulé (A → Z)"),
        (MISE_A_JOUR, "Date de mise à jour (la plus récente d'abord)"),
        (PROCHAINE_SESSION, "Prochaine session (la plus proche d'abord)"),
    ]


@dataclass
class Criteres:
    """Validated criteria (ofeli.recherche.forms builds them); empty means "any"."""

    texte: str = ""
    formacodes: list[str] = field(default_factory=list)
    nsf: list[str] = field(default_factory=list)
    romes: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    departements: list[str] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    dispositifs: list[str] = field(default_factory=list)
    numeros: list[str] = field(default_factory=list)
    marches: list[str] = field(default_factory=list)
    etats: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    organismes: list[int] = field(default_factory=list)
    certifiante: bool | None = None
    fonds_publics: bool | None = None
    a_distance: bool | None = None
    entree_sortie_permanente: bool | None = None
    niveau_entree: int | None = None
    niveau_sortie: int | None = None
    debut_apres: datetime.date | None = None
    debut_avant: datetime.date | None = None
    tri: str = Tri.PERTINENCE


class SansIndex(Func):
    """`+expression` (SQLite: the same value, which SQLite may no longer use to pick the rows to read first)."""

    template = "+%(expressions)s"


class InSansIndex(In):
    """`+column IN (...)` (SQLite): the same test, which SQLite may no longer use to pick the rows to read first."""

    lookup_name = "in_sans_index"

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return f"+{sql}", params


BigAutoField.register_lookup(InSansIndex)


class Bm25(Func):
    function = "bm25"
    output_field = FloatField()


def conditions(criteres: Criteres, p: str = "", *, kind: str = Kind.OFFRE, dense: bool = False) -> Q:
    """The filters (not the full text) as one condition on the document, reached through the prefix `p`.

    `dense` (SQLite): the criteria keep more than PLAFOND_COMPTE documents; the page is then found sooner by
    walking the sort's index and testing each document than by reading the criteria's documents first.
    """
    sans_index = dense and connection.vendor == "sqlite"
    dans = "in_sans_index" if sans_index else "in"

    def colonne_date(nom):
        return SansIndex(F(nom), output_field=DateField()) if sans_index else F(nom)

    def ayant(nom, **lookup):
        criteres_du_kind = CritereRecherche.objects.filter(kind=kind, nom=nom, **lookup)
        return Q(**{f"{p}id__{dans}": criteres_du_kind.values("document_id")})

    q = Q()
    for nom, valeurs in (
        (Nom.FORMACODE, criteres.formacodes),
        (Nom.NSF, criteres.nsf),
        (Nom.ROME, criteres.romes),
        (Nom.CERTIFICATION, criteres.certifications),
        (Nom.DEPARTEMENT, criteres.departements),
        (Nom.COMMUNE, criteres.communes),
        (Nom.DISPOSITIF, criteres.dispositifs),
        (Nom.NUMERO, criteres.numeros),
        (Nom.MARCHE, criteres.marches),
    ):
        if valeurs:
            q &= ayant(nom, valeur__in=sorted(set(valeurs)))
    for colonne, valeurs in (
        ("etat", criteres.etats),
        ("source", criteres.sources),
        ("organisme_id", criteres.organismes),
    ):
        if valeurs:
            q &= Q(**{f"{p}{colonne}__in": sorted(set(valeurs))})
    for colonne in (
        "certifiante",
        "fonds_publics",
        "a_distance",
        "entree_sortie_permanente",
        "niveau_entree",
        "niveau_sortie",
    ):
        valeur = getattr(criteres, colonne)
        if valeur is not None:
            q &= Q(**{f"{p}{colonne}": valeur})
    if criteres.debut_apres or criteres.debut_avant:
        # A session starting in the range: the document's first/last starts cut cheaply, the
        # session starts (ISO dates, which sort as text) decide.
        bornes = {}
        if criteres.debut_apres:
            q &= Q(GreaterThanOrEqual(colonne_date(f"{p}derniere_session"), criteres.debut_apres))
            bornes["valeur__gte"] = criteres.debut_apres.isoformat()
        if criteres.debut_avant:
            q &= Q(LessThanOrEqual(colonne_date(f"{p}premiere_session"), criteres.debut_avant))
            bornes["valeur__lte"] = criteres.debut_avant.isoformat()
        q &= ayant(Nom.DEBUT, **bornes)
    return q


def correspondances_fts5(requete: str, kind: str) -> RawSQL:
    """SQLite: the ids of the documents of `kind` matching `requete` (FTS5 syntax), as a sub-query for `id__in`.

    Only the rowid is read, from the kind's full-text index itself: reading any column of the FTS5 table (even
    the UNINDEXED `document_id`) reads each matching row's stored text, which for a word found in most documents
    costs ten times the match (bench/bench_search.py, docs/performance.md). Inside
    `correspondances_materialisees` for the same words and kind: the temporary table, which SQLite probes by its
    key.
    """
    if (materialisee := getattr(connection, "ofeli_correspondances", None)) and materialisee[0] == (requete, kind):
        return RawSQL("SELECT id FROM temp.ofeli_correspondances", [])
    table = table_fts(kind)
    # A constant table name; the query is a parameter.
    return RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [requete])  # noqa: S608, S611  # nosec B608, B611


def nombre_correspondances_fts5(requete: str, kind: str) -> int:
    """SQLite: how many documents of `kind` match `requete`, from the index alone."""
    if (materialisee := getattr(connection, "ofeli_correspondances", None)) and materialisee[0] == (requete, kind):
        return materialisee[1]
    table = table_fts(kind)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH %s", [requete])  # noqa: S608  # nosec B608  # a constant table name
        return cursor.fetchone()[0]


@contextmanager
def correspondances_materialisees(texte: str, kind: str):
    """SQLite: the documents of `kind` matching `texte` copied once into a temporary table (this connection's own)
    for the block. An `IN (SELECT rowid … MATCH …)` re-reads and sorts every match in each statement (≈ 40 ms for
    a word found in 100,000 documents); an `IN` on a table's integer key is a probe of that table."""
    requete = texte_fr.requete_fts5(texte)
    table = table_fts(kind)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS ofeli_correspondances (id INTEGER PRIMARY KEY)")
        cursor.execute("DELETE FROM temp.ofeli_correspondances")
        cursor.execute(
            f"INSERT INTO temp.ofeli_correspondances (id) SELECT rowid FROM {table} WHERE {table} MATCH %s",  # noqa: S608  # nosec B608  # a constant table name
            [requete],
        )
        nombre = cursor.rowcount
    connection.ofeli_correspondances = ((requete, kind), nombre)
    try:
        yield
    finally:
        connection.ofeli_correspondances = None
    # Emptied after the block only when it succeeded: after an error a query here could hide it (a broken
    # transaction refuses every statement); the next search empties the table before filling it anyway.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM temp.ofeli_correspondances")


# SQLite's bm25 ranks every row that FTS5 matches, whatever the other criteria keep (≈ 1–2 µs a row): beyond this
# many documents of the kind searched, the words are sorted by intitulé instead (mots_trop_courants).
SEUIL_BM25 = 20_000


def mots_trop_courants(texte: str, kind: str) -> bool:
    """Whether ranking the documents of `kind` holding these words would cost more than a search may (SQLite only).

    PostgreSQL ranks only the documents that every criterion keeps (the GIN index and the filters are
    combined first), so its cost follows the results. FTS5 ranks every document holding the words before
    any other criterion applies: for words found in more than SEUIL_BM25 documents, the results are listed
    in the intitulé order (ofeli.recherche.services.documents_classes), as PostgreSQL does beyond
    PLAFOND_COMPTE results.
    """
    if connection.vendor == "postgresql" or not texte_fr.a_des_mots(texte):
        return False
    return nombre_correspondances_fts5(texte_fr.requete_fts5(texte), kind) > SEUIL_BM25


def _rang_fts5(qs: QuerySet, requete: str, kind: str) -> QuerySet:
    """SQLite: `qs` (documents of `kind`, already filtered on the match) annotated with `rang` (bm25 with the
    weights BM25_POIDS, higher first). FTS5 is read first and its rows joined to the documents by rowid: the unary
    `+` keeps SQLite from probing the full-text index once per document, and no column of the FTS5 table is
    read, only its index."""
    poids = ", ".join(str(p) for p in BM25_POIDS)
    table = table_fts(kind)
    # Constant SQL (the weights and the kind's table name); the query is a parameter.
    return qs.extra(  # noqa: S610  # nosec B610
        select={"rang": f"-bm25({table}, {poids})"},
        tables=[table],
        where=[f"{table} MATCH %s", f"recherche_documentrecherche.id = +{table}.rowid"],
        params=[requete],
    )


def _chercher(
    qs: QuerySet, criteres: Criteres, p: str, *, kind: str, base: Q, aujourd_hui=None, dense: bool = False
) -> QuerySet:
    """Filters, ranks and sorts `qs`, whose document is reached through the prefix `p`."""
    # One filter() call, so that every condition and the rank use the same joins.
    filtre = base & conditions(criteres, p, kind=kind, dense=dense)
    plein_texte = texte_fr.a_des_mots(criteres.texte)
    if not plein_texte:
        qs = qs.filter(filtre).annotate(rang=Value(None, output_field=FloatField()))
    elif connection.vendor == "postgresql":
        requete = SearchQuery(criteres.texte, config=PG_CONFIG, search_type="websearch")
        qs = qs.filter(filtre & Q(**{f"{p}search_vector": requete})).annotate(
            rang=SearchRank(F(f"{p}vecteur_rang"), requete)
        )
    elif p:
        # Formations (exports, bulk edit): the FTS5 row joined on its document, ranked by bm25. LigneFts maps
        # the working copies' table: the formations' search is of that kind.
        if kind != Kind.OFFRE:
            raise ValueError(f"recherche de formations sur SQLite : documents « offre » seulement, pas « {kind} »")
        qs = qs.filter(filtre & Q(**{f"{p}fts__texte__match": texte_fr.requete_fts5(criteres.texte)})).annotate(
            rang=-Bm25(F(f"{p}fts__texte"), *(Value(poids) for poids in BM25_POIDS))
        )
    else:
        # Documents (the search pages): the match as a set of rowids, read from FTS5's index alone.
        requete = texte_fr.requete_fts5(criteres.texte)
        # More than PLAFOND_COMPTE results (`dense`): walking the sort's index and testing each document against
        # the match finds the page sooner than reading every match first and sorting them.
        dans = "id__in_sans_index" if dense else "id__in"
        qs = qs.filter(filtre & Q(**{dans: correspondances_fts5(requete, kind)}))
        if criteres.tri == Tri.PERTINENCE:
            qs = _rang_fts5(qs, requete, kind)
        else:
            qs = qs.annotate(rang=Value(None, FloatField()))

    tri = criteres.tri
    if tri == Tri.PERTINENCE and not plein_texte:
        tri = Tri.INTITULE
    if tri == Tri.PERTINENCE:
        # "-rang" by name: on SQLite the rank may be an extra select (_rang_fts5), which F() cannot name.
        return qs.order_by("-rang", f"{p}intitule_tri", f"{p}formation_id")
    if tri == Tri.MISE_A_JOUR:
        return qs.order_by(F(f"{p}mise_a_jour").desc(), f"{p}formation_id")
    if tri == Tri.PROCHAINE_SESSION:
        # The stored next session (models.DocumentRecherche.prochaine_session), made exact for today first:
        # no per-row look-up of the sessions, and an index walk (kind, prochaine_session) can serve the page.
        rafraichir_prochaines_sessions(aujourd_hui or timezone.localdate())
        # No NULL once refreshed (models.SANS_PROCHAINE_SESSION): the plain ascending order, an index walk on
        # both databases.
        return qs.order_by(f"{p}prochaine_session", f"{p}intitule_tri", f"{p}formation_id")
    return qs.order_by(f"{p}intitule_tri", f"{p}formation_id")


def rechercher_documents(
    criteres: Criteres,
    *,
    kind: str = Kind.OFFRE,
    organisme_id: int | None = None,
    aujourd_hui=None,
    dense: bool = False,
) -> QuerySet:
    """The documents of `kind` matching `criteres` (within one organisme if given), ranked and sorted.

    The fast path for a page of results: the count and the page's ids never touch the formation table.
    `dense`: the caller knows that more than PLAFOND_COMPTE documents match (SQLite: see _chercher).
    Annotated with `rang` (None without full text); `prochaine_session` is a column of the document.
    """
    base = Q(kind=kind)
    if organisme_id is not None:
        base &= Q(organisme_id=organisme_id)
    documents = DocumentRecherche.objects.all()
    return _chercher(documents, criteres, "", kind=kind, base=base, aujourd_hui=aujourd_hui, dense=dense)


def rechercher(formations: QuerySet, criteres: Criteres, *, kind: str = Kind.OFFRE, aujourd_hui=None) -> QuerySet:
    """`formations` (already scoped to what the user may see) filtered by `criteres`, ranked and sorted.

    Same filters, rank and order as `rechercher_documents`, on a queryset of Formation (for exports and
    anything that needs the formations themselves).
    """
    qs = formations.annotate(doc=FilteredRelation("documents_recherche", condition=Q(documents_recherche__kind=kind)))
    return _chercher(qs, criteres, "doc__", kind=kind, base=Q(doc__isnull=False), aujourd_hui=aujourd_hui)
