"""The public site's search documents (kind "publication"), built from validated snapshots only.

A formation's public document reflects its current publication (validation.Publication whose
closed_at is null) and nothing of the working copy: `donnees_publication` reads Publication.data
(format in ofeli.validation.snapshot) and returns the engine's `Donnees` (ofeli.recherche.index).

- `publication_indexer(publication)`: writes (or replaces) the document of a new current publication;
  to be called in the transaction that opened it (validation.workflow._publier).
- `publication_desindexer(formation_id)`: removes it when the publication is closed without a
  successor (archived, withdrawn from diffusion: validation.workflow._fermer_publication).
- `reindexer_public()`: rebuilds every public document from the current publications
  (`manage.py reindex_public`).

One difference with the working copy's documents: `derniere_session` holds the last session's END
date (not its start). The engine only uses it as a cheap lower bound for "a session starting after"
(still true since an end is never before its start), and the public search uses it to hide the
formations whose sessions have all ended ("Afficher aussi les sessions terminées").
"""

import datetime

from django.db import transaction

from ofeli.offre.models import DISPOSITIFS_FONDS_PUBLICS, Etat, ModalitesEnseignement
from ofeli.recherche.index import Donnees, code_normalise, ecrire_documents
from ofeli.recherche.models import CritereRecherche, DocumentRecherche, Kind
from ofeli.validation.models import Publication

Nom = CritereRecherche.Nom
BATCH = 500


def _date(valeur) -> datetime.date | None:
    return datetime.date.fromisoformat(valeur[:10]) if valeur else None


def donnees_publication(publication: Publication) -> Donnees:
    """The search document of a publication, from its snapshot only."""
    data = publication.data
    formation = data["formation"]
    criteres: set[tuple[str, str]] = set()
    autres: list[str] = []
    for cle, nom in (("formacodes", Nom.FORMACODE), ("nsf", Nom.NSF), ("romes", Nom.ROME)):
        for item in formation.get(cle) or []:
            if item.get("code"):
                criteres.add((nom, code_normalise(item["code"])))
            autres.append(item.get("libelle") or "")
    for certification in formation.get("certifications") or []:
        if certification.get("code"):
            criteres.add((Nom.CERTIFICATION, code_normalise(certification["code"])))
        autres.extend([certification.get("code") or "", certification.get("intitule") or ""])
    organisme = formation.get("organisme") or {}
    autres.extend(organisme.get(k) for k in ("raison_sociale", "nom", "sigle") if organisme.get(k))
    if formation.get("numero"):
        criteres.add((Nom.NUMERO, code_normalise(formation["numero"])))

    debuts, fins = [], []
    fonds_publics = a_distance = esp = False
    villes = set()
    for action in data.get("actions", []):
        criteres.add((Nom.DISPOSITIF, action.get("dispositif") or ""))
        fonds_publics |= action.get("dispositif") in DISPOSITIFS_FONDS_PUBLICS
        a_distance |= action.get("modalites_enseignement") == ModalitesEnseignement.A_DISTANCE
        esp |= bool(action.get("entree_sortie_permanente"))
        if action.get("numero"):
            criteres.add((Nom.NUMERO, code_normalise(action["numero"])))
        if (action.get("numero_marche") or "").strip():
            criteres.add((Nom.MARCHE, code_normalise(action["numero_marche"])))
        for lieu in action.get("lieux") or []:
            if lieu.get("departement"):
                criteres.add((Nom.DEPARTEMENT, lieu["departement"].upper()))
            if lieu.get("code_insee"):
                criteres.add((Nom.COMMUNE, lieu["code_insee"].upper()))
            if lieu.get("ville"):
                villes.add(lieu["ville"])
        for session in action.get("sessions", []):
            debut, fin = _date(session.get("debut")), _date(session.get("fin"))
            if debut:
                debuts.append(debut)
                criteres.add((Nom.DEBUT, debut.isoformat()))
            if fin:
                fins.append(fin)
            if session.get("numero"):
                criteres.add((Nom.NUMERO, code_normalise(session["numero"])))
    criteres.discard((Nom.DISPOSITIF, ""))
    autres.extend(sorted(villes))
    return Donnees(
        formation_id=publication.formation_id,
        organisme_id=publication.organisme_id,
        intitule=formation.get("intitule") or "",
        objectif=formation.get("objectif") or "",
        contenu=formation.get("contenu") or "",
        autres=" ; ".join(a for a in autres if a),
        source=formation.get("source") or "",
        etat=Etat.VALIDEE,
        certifiante=bool(formation.get("certifiante")),
        niveau_entree=formation.get("niveau_entree"),
        niveau_sortie=formation.get("niveau_sortie"),
        fonds_publics=fonds_publics or publication.fonds_publics,
        a_distance=a_distance,
        entree_sortie_permanente=esp,
        premiere_session=min(debuts) if debuts else None,
        # The last END (see the module's docstring).
        derniere_session=max(fins + debuts) if (fins or debuts) else None,
        mise_a_jour=publication.validated_at,
        criteres=criteres,
    )


def publications_indexer(publications) -> int:
    """Writes the public documents of these publications (current ones only; closed ones are ignored)."""
    donnees = [donnees_publication(p) for p in publications if p.closed_at is None]
    ecrire_documents(donnees, kind=Kind.PUBLICATION)
    return len(donnees)


def publication_indexer(publication: Publication) -> None:
    """The public document of a formation now reflects this (new, current) publication."""
    with transaction.atomic():
        if publication.closed_at is not None:
            publication_desindexer(publication.formation_id)
            return
        publications_indexer([publication])


def publication_desindexer(formation_id: int) -> None:
    """The formation is no longer diffused: its public document goes."""
    DocumentRecherche.objects.filter(kind=Kind.PUBLICATION, formation_id=formation_id).delete()


def reindexer_public(*, batch: int = BATCH, progress=None) -> int:
    """Rebuilds the public documents from the current publications; drops those without one."""
    ids = list(Publication.objects.courantes().order_by("pk").values_list("pk", flat=True))
    total = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            total += publications_indexer(Publication.objects.filter(pk__in=ids[start : start + batch]))
        if progress:
            progress(total, len(ids))
    with transaction.atomic():
        DocumentRecherche.objects.filter(kind=Kind.PUBLICATION).exclude(
            formation_id__in=Publication.objects.courantes().values("formation_id")
        ).delete()
    return total
