"""Writes the search documents of the working copy (design note 5).

`indexer_formation(formation_id)` is called by every write of the offer (ofeli.offre.services,
the workflow, the imports) inside the transaction of that write: the document is always in step
with the data, a rollback undoes both. A formation that no longer exists loses its document.
`indexer_formations(ids)` does the same for many formations in batches (imports, the
`reindex_recherche` command).

What a document holds is computed by `donnees_formation` into a plain `Donnees`: the public
site's documents (kind "publication") can be written by `ecrire_documents` from a validated
snapshot the same way.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Min, Prefetch, Q
from django.utils import timezone

from ofeli.offre.models import DISPOSITIFS_FONDS_PUBLICS, Action, Formation, ModalitesEnseignement

from . import texte
from .models import SANS_PROCHAINE_SESSION, CritereRecherche, DocumentRecherche, Kind, table_fts

BATCH = 500
Nom = CritereRecherche.Nom


@dataclass
class Donnees:
    """Everything a search document holds, from whatever it reflects (working copy or publication)."""

    formation_id: int
    organisme_id: int
    intitule: str
    objectif: str
    contenu: str
    autres: str
    source: str
    etat: str
    certifiante: bool
    niveau_entree: int | None
    niveau_sortie: int | None
    fonds_publics: bool
    a_distance: bool
    entree_sortie_permanente: bool
    premiere_session: datetime.date | None
    derniere_session: datetime.date | None
    mise_a_jour: datetime.datetime
    criteres: set[tuple[str, str]] = field(default_factory=set)


def code_normalise(valeur: str) -> str:
    """Codes and numbers as stored and searched: upper case, no spaces."""
    return "".join((valeur or "").split()).upper()[:50]


def _formations(ids):
    return (
        Formation.objects.filter(pk__in=ids)
        .select_related("organisme")
        .prefetch_related(
            "formacodes",
            "nsf",
            "romes",
            "certifications",
            Prefetch(
                "actions",
                queryset=Action.objects.prefetch_related("lieux", "sessions").order_by("pk"),
            ),
        )
    )


def donnees_formation(formation: Formation) -> Donnees:
    """The document of a formation's working copy (relations prefetched by the caller for bulk use)."""
    criteres: set[tuple[str, str]] = set()
    autres: list[str] = []
    for ref, nom in ((formation.formacodes, Nom.FORMACODE), (formation.nsf, Nom.NSF), (formation.romes, Nom.ROME)):
        for item in ref.all():
            criteres.add((nom, code_normalise(item.code)))
            autres.append(item.libelle)
    for certification in formation.certifications.all():
        criteres.add((Nom.CERTIFICATION, code_normalise(certification.code)))
        autres.extend([certification.code, certification.intitule])
    organisme = formation.organisme
    autres.extend(p for p in (organisme.raison_sociale, organisme.nom, organisme.sigle) if p)
    if formation.numero:
        criteres.add((Nom.NUMERO, code_normalise(formation.numero)))

    mises_a_jour = [formation.updated_at]
    debuts, fins = [], []
    fonds_publics = a_distance = esp = False
    villes = set()
    for action in formation.actions.all():
        mises_a_jour.append(action.updated_at)
        criteres.add((Nom.DISPOSITIF, action.dispositif))
        fonds_publics |= action.dispositif in DISPOSITIFS_FONDS_PUBLICS
        a_distance |= action.modalites_enseignement == ModalitesEnseignement.A_DISTANCE
        esp |= action.entree_sortie_permanente
        if action.numero:
            criteres.add((Nom.NUMERO, code_normalise(action.numero)))
        if action.numero_marche.strip():
            criteres.add((Nom.MARCHE, code_normalise(action.numero_marche)))
        for lieu in action.lieux.all():
            if lieu.departement:
                criteres.add((Nom.DEPARTEMENT, lieu.departement.upper()))
            if lieu.code_insee:
                criteres.add((Nom.COMMUNE, lieu.code_insee.upper()))
            if lieu.ville:
                villes.add(lieu.ville)
        for session in action.sessions.all():
            mises_a_jour.append(session.updated_at)
            debuts.append(session.debut)
            fins.append(session.fin)
            criteres.add((Nom.DEBUT, session.debut.isoformat()))
            if session.numero:
                criteres.add((Nom.NUMERO, code_normalise(session.numero)))
    autres.extend(sorted(villes))
    return Donnees(
        formation_id=formation.pk,
        organisme_id=formation.organisme_id,
        intitule=formation.intitule,
        objectif=formation.objectif,
        contenu=formation.contenu,
        autres=" ; ".join(autres),
        source=formation.source,
        etat=formation.etat,
        certifiante=formation.certifiante,
        niveau_entree=formation.niveau_entree,
        niveau_sortie=formation.niveau_sortie,
        fonds_publics=fonds_publics,
        a_distance=a_distance,
        entree_sortie_permanente=esp,
        premiere_session=min(debuts) if debuts else None,
        derniere_session=max(debuts) if debuts else None,
        mise_a_jour=max(m for m in mises_a_jour if m is not None),
        criteres=criteres,
    )


_COLONNES = [
    "organisme_id",
    "intitule",
    "intitule_tri",
    "source",
    "etat",
    "certifiante",
    "niveau_entree",
    "niveau_sortie",
    "fonds_publics",
    "a_distance",
    "entree_sortie_permanente",
    "premiere_session",
    "derniere_session",
    "mise_a_jour",
    "prochaine_session",
    "prochaine_au",
]


def prochaine_session(donnees: Donnees, jour: datetime.date) -> datetime.date:
    """The first session start on or after `jour` (from the document's criteria), SANS_PROCHAINE_SESSION if none."""
    debuts = [v for nom, v in donnees.criteres if nom == Nom.DEBUT and v >= jour.isoformat()]
    return datetime.date.fromisoformat(min(debuts)) if debuts else SANS_PROCHAINE_SESSION


_PG_VECTOR = """
    UPDATE recherche_documentrecherche SET
        vecteur_rang = v.a || v.b,
        search_vector = v.a || v.b || setweight(to_tsvector('ofeli_fr', %s), 'C')
                        || setweight(to_tsvector('ofeli_fr', %s), 'D')
    FROM (
        SELECT setweight(to_tsvector('ofeli_fr', %s), 'A') AS a, setweight(to_tsvector('ofeli_fr', %s), 'B') AS b
    ) AS v
    WHERE id = %s
"""


def _ecrire_plein_texte(lignes: list[tuple[int, Donnees]], kind: str):
    textes = [(d.intitule, d.objectif, d.contenu, d.autres, doc_id) for doc_id, d in lignes]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.executemany(_PG_VECTOR, [(c, a, i, o, doc_id) for i, o, c, a, doc_id in textes])
        elif connection.vendor == "sqlite":
            table = table_fts(kind)
            ids = [doc_id for doc_id, _ in lignes]
            cursor.execute(
                f"DELETE FROM {table} WHERE rowid IN ({', '.join(['%s'] * len(ids))})",  # noqa: S608  # nosec B608  # a constant table name, placeholders
                ids,
            )
            cursor.executemany(
                f"INSERT INTO {table} (rowid, titre, objectif, contenu, autres, document_id) "  # noqa: S608  # nosec B608  # a constant table name
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [(doc_id, *(texte.normaliser(t) for t in ligne[:4]), doc_id) for *ligne, doc_id in textes],
            )
        else:  # pragma: no cover - OFeli runs on these two databases only
            raise NotImplementedError(connection.vendor)


@transaction.atomic
def ecrire_documents(donnees: list[Donnees], *, kind: str = Kind.OFFRE) -> None:
    """Creates or replaces the documents of `kind` for these formations, criteria and full text included."""
    if not donnees:
        return
    existants = dict(
        DocumentRecherche.objects.filter(kind=kind, formation_id__in=[d.formation_id for d in donnees]).values_list(
            "formation_id", "pk"
        )
    )
    a_modifier, a_creer, lignes = [], [], []
    jour = timezone.localdate()
    calcules = {"intitule_tri", "prochaine_session", "prochaine_au"}
    for d in donnees:
        doc = DocumentRecherche(
            pk=existants.get(d.formation_id),
            kind=kind,
            formation_id=d.formation_id,
            intitule_tri=texte.sans_accents(d.intitule)[:255],
            prochaine_session=prochaine_session(d, jour),
            prochaine_au=jour,
            **{c: getattr(d, c) for c in _COLONNES if c not in calcules},
        )
        (a_modifier if doc.pk else a_creer).append(doc)
        lignes.append((doc, d))
    if a_modifier:
        DocumentRecherche.objects.bulk_update(a_modifier, _COLONNES, batch_size=BATCH)
    if a_creer:
        DocumentRecherche.objects.bulk_create(a_creer, batch_size=BATCH)
    CritereRecherche.objects.filter(document_id__in=list(existants.values())).delete()
    CritereRecherche.objects.bulk_create(
        [
            CritereRecherche(document_id=doc.pk, kind=kind, nom=nom, valeur=valeur)
            for doc, d in lignes
            for nom, valeur in sorted(d.criteres)
        ],
        batch_size=2000,
    )
    _ecrire_plein_texte([(doc.pk, d) for doc, d in lignes], kind)


def indexer_formations(ids: Iterable[int]) -> int:
    """Brings the working-copy documents of these formations in step with the data; returns how many exist.

    Formations that no longer exist lose their document. Call it inside the write's transaction.
    """
    ids = sorted(set(ids))
    total = 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            lot = ids[start : start + BATCH]
            donnees = [donnees_formation(f) for f in _formations(lot)]
            trouves = {d.formation_id for d in donnees}
            disparus = [i for i in lot if i not in trouves]
            if disparus:
                DocumentRecherche.objects.filter(kind=Kind.OFFRE, formation_id__in=disparus).delete()
            ecrire_documents(donnees, kind=Kind.OFFRE)
            total += len(donnees)
    return total


def indexer_formation(formation_id: int) -> None:
    """Brings the working-copy document of one formation in step with the data (call it inside the write)."""
    indexer_formations([formation_id])


def reindexer_tout(*, batch: int = 2000, progress=None) -> int:
    """Rebuilds every working-copy document, batch by batch (one transaction per batch)."""
    ids = list(Formation.objects.order_by("pk").values_list("pk", flat=True))
    total = 0
    for start in range(0, len(ids), batch):
        total += indexer_formations(ids[start : start + batch])
        if progress:
            progress(total, len(ids))
    with transaction.atomic():
        DocumentRecherche.objects.filter(kind=Kind.OFFRE).exclude(formation_id__in=Formation.objects.all()).delete()
    return total


def rafraichir_prochaines_sessions(jour: datetime.date | None = None, *, batch: int = 2000) -> int:
    """Recomputes the stored next session of the documents where it is no longer exact on `jour`.

    Those whose stored next session is before `jour` (it has started since), that were computed after `jour`
    (a clock put back, in tests) or never (documents written before the column existed). Called before a sort
    by next session (after the nightly run there are none: one index probe) and each night
    (ofeli.recherche.tasks). Returns how many were updated.
    """
    jour = jour or timezone.localdate()
    conditions = (Q(prochaine_session__lt=jour), Q(prochaine_au__gt=jour), Q(prochaine_au__isnull=True))
    # Three index probes first: their OR in one query reads the whole table (SQLite), on every such sort.
    if not any(DocumentRecherche.objects.filter(c).exists() for c in conditions):
        return 0
    perimes = DocumentRecherche.objects.filter(conditions[0] | conditions[1] | conditions[2])
    total = 0
    while ids := list(perimes.order_by("pk").values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            prochaines = dict(
                CritereRecherche.objects.filter(document_id__in=ids, nom=Nom.DEBUT, valeur__gte=jour.isoformat())
                .values("document_id")
                .annotate(prochaine=Min("valeur"))
                .values_list("document_id", "prochaine")
            )
            documents = list(DocumentRecherche.objects.filter(pk__in=ids).only("pk"))
            for document in documents:
                valeur = prochaines.get(document.pk)
                document.prochaine_session = datetime.date.fromisoformat(valeur) if valeur else SANS_PROCHAINE_SESSION
                document.prochaine_au = jour
            DocumentRecherche.objects.bulk_update(documents, ["prochaine_session", "prochaine_au"], batch_size=500)
        total += len(ids)
    return total
