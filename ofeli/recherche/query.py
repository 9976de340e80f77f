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
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FilteredRelation, FloatField, Func, Q, QuerySet, Value
from django.utils import timezone

from . import texte as texte_fr
from .index import rafraichir_prochaines_sessions
from .models import CritereRecherche, DocumentRecherche, Kind

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


class Bm25(Func):
    function = "bm25"
    output_field = FloatField()


def conditions(criteres: Criteres, p: str = "") -> Q:
    """The filters (not the full text) as one condition on the document, reached through the prefix `p`."""

    def ayant(nom, **lookup):
        return Q(**{f"{p}id__in": CritereRecherche.objects.filter(nom=nom, **lookup).values("document_id")})

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
            q &= Q(**{f"{p}derniere_session__gte": criteres.debut_apres})
            bornes["valeur__gte"] = criteres.debut_apres.isoformat()
        if criteres.debut_avant:
            q &= Q(**{f"{p}premiere_session__lte": criteres.debut_avant})
            bornes["valeur__lte"] = criteres.debut_avant.isoformat()
        q &= ayant(Nom.DEBUT, **bornes)
    return q


def _chercher(qs: QuerySet, criteres: Criteres, p: str, *, base: Q, aujourd_hui=None) -> QuerySet:
    """Filters, ranks and sorts `qs`, whose document is reached through the prefix `p`."""
    # One filter() call, so that every condition and the rank use the same joins.
    filtre = base & conditions(criteres, p)
    plein_texte = texte_fr.a_des_mots(criteres.texte)
    if not plein_texte:
        qs = qs.filter(filtre).annotate(rang=Value(None, output_field=FloatField()))
    elif connection.vendor == "postgresql":
        requete = SearchQuery(criteres.texte, config=PG_CONFIG, search_type="websearch")
        qs = qs.filter(filtre & Q(**{f"{p}search_vector": requete})).annotate(
            rang=SearchRank(F(f"{p}vecteur_rang"), requete)
        )
    else:
        qs = qs.filter(filtre & Q(**{f"{p}fts__texte__match": texte_fr.requete_fts5(criteres.texte)})).annotate(
            rang=-Bm25(F(f"{p}fts__texte"), *(Value(poids) for poids in BM25_POIDS))
        )

    tri = criteres.tri
    if tri == Tri.PERTINENCE and not plein_texte:
        tri = Tri.INTITULE
    if tri == Tri.PERTINENCE:
        return qs.order_by(F("rang").desc(), f"{p}intitule_tri", f"{p}formation_id")
    if tri == Tri.MISE_A_JOUR:
        return qs.order_by(F(f"{p}mise_a_jour").desc(), f"{p}formation_id")
    if tri == Tri.PROCHAINE_SESSION:
        # The stored next session (models.DocumentRecherche.prochaine_session), made exact for today first:
        # no per-row look-up of the sessions, and an index walk (kind, prochaine_session) can serve the page.
        rafraichir_prochaines_sessions(aujourd_hui or timezone.localdate())
        return qs.order_by(F(f"{p}prochaine_session").asc(nulls_last=True), f"{p}intitule_tri", f"{p}formation_id")
    return qs.order_by(f"{p}intitule_tri", f"{p}formation_id")


def rechercher_documents(
    criteres: Criteres, *, kind: str = Kind.OFFRE, organisme_id: int | None = None, aujourd_hui=None
) -> QuerySet:
    """The documents of `kind` matching `criteres` (within one organisme if given), ranked and sorted.

    The fast path for a page of results: the count and the page's ids never touch the formation table.
    Annotated with `rang` (None without full text); `prochaine_session` is a column of the document.
    """
    base = Q(kind=kind)
    if organisme_id is not None:
        base &= Q(organisme_id=organisme_id)
    return _chercher(DocumentRecherche.objects.all(), criteres, "", base=base, aujourd_hui=aujourd_hui)


def rechercher(formations: QuerySet, criteres: Criteres, *, kind: str = Kind.OFFRE, aujourd_hui=None) -> QuerySet:
    """`formations` (already scoped to what the user may see) filtered by `criteres`, ranked and sorted.

    Same filters, rank and order as `rechercher_documents`, on a queryset of Formation (for exports and
    anything that needs the formations themselves).
    """
    qs = formations.annotate(doc=FilteredRelation("documents_recherche", condition=Q(documents_recherche__kind=kind)))
    return _chercher(qs, criteres, "doc__", base=Q(doc__isnull=False), aujourd_hui=aujourd_hui)
