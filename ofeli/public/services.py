"""What the public pages show, read from the current publications only (never the working copy).

- `publication_par_numero(numero)`: the current Publication of the formation with this Carif number;
  `reperer(numero)` the same without the snapshot (id, intitulé, number).
- `fiche(publication, terminees=False)`: the formation's page, from the snapshot (sessions ended
  before today are left out unless `terminees`).
- `resultats(form, numero_page)`: one page of the public search (engine F, documents of kind
  "publication"), each result built from its publication's snapshot.
- `generation()`: a value that changes whenever a publication is opened or closed (cache keys).
"""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from ofeli.recherche import services as recherche_services
from ofeli.recherche.models import Kind
from ofeli.recherche.services import PaginatorPlafonne, documents_classes, index_plein_texte
from ofeli.validation.models import Publication

from .forms import RecherchePubliqueForm

PAR_PAGE = 20


def slug_de(intitule: str) -> str:
    return slugify(intitule or "")[:80].strip("-") or "formation"


def publication_par_numero(numero: str) -> Publication | None:
    """The current publication of the formation whose Carif number is `numero` (None if not diffused)."""
    return (
        Publication.objects.courantes()
        .filter(formation__numero=numero)
        .only("id", "formation_id", "organisme_id", "numero", "data", "validated_at", "closed_at")
        .first()
    )


def reperer(numero: str) -> tuple[int, str, str] | None:
    """(publication id, intitulé, Carif number) of the current publication for this Carif number, without
    loading the snapshot: what a formation page needs to find its cache entry and its canonical URL."""
    return (
        Publication.objects.courantes()
        .filter(formation__numero=numero)
        .values_list("id", "data__formation__intitule", "data__formation__numero")
        .first()
    )


def generation() -> str:
    """Changes with every publication opened or closed: part of the search pages' cache key."""
    agg = Publication.objects.aggregate(dernier=Max("id"), ferme=Max("closed_at"))
    ferme = agg["ferme"].timestamp() if agg["ferme"] else 0
    return f"{agg['dernier'] or 0}-{ferme}"


def _date(valeur) -> datetime.date | None:
    return datetime.date.fromisoformat(valeur[:10]) if valeur else None


def _session(session: dict) -> dict:
    contacts = session.get("contacts") or []
    return dict(
        session,
        debut_date=_date(session.get("debut")),
        fin_date=_date(session.get("fin")),
        inscription_debut_date=_date(session.get("inscription_debut")),
        inscription_fin_date=_date(session.get("inscription_fin")),
        places_date_date=_date(session.get("places_date")),
        contacts=contacts,
    )


@dataclass
class Fiche:
    publication: Publication
    formation: dict
    organisme: dict
    actions: list[dict]
    sessions: list[dict]  # shown, all actions together, in date order
    terminees_masquees: int
    terminees: bool
    slug: str

    @property
    def numero(self) -> str:
        return self.formation.get("numero") or ""

    @property
    def description(self) -> str:
        texte = " ".join((self.formation.get("objectif") or "").split())
        return texte[:155] + ("…" if len(texte) > 155 else "")


def fiche(publication: Publication, *, terminees: bool = False, aujourd_hui: datetime.date | None = None) -> Fiche:
    """The formation's public page, from the publication's snapshot."""
    jour = aujourd_hui or timezone.localdate()
    data = publication.data
    formation = data["formation"]
    actions, toutes = [], []
    masquees = 0
    for action in data.get("actions", []):
        sessions = []
        for s in action.get("sessions", []):
            session = _session(s)
            if not terminees and session["fin_date"] and session["fin_date"] < jour:
                masquees += 1
                continue
            session["action"] = action
            sessions.append(session)
        actions.append(dict(action, sessions=sessions))
        toutes.extend(sessions)
    toutes.sort(key=lambda s: (s["debut_date"] or datetime.date.max, s.get("id") or 0))
    return Fiche(
        publication=publication,
        formation=formation,
        organisme=formation.get("organisme") or {},
        actions=actions,
        sessions=toutes,
        terminees_masquees=masquees,
        terminees=terminees,
        slug=slug_de(formation.get("intitule")),
    )


@dataclass
class Resultat:
    numero: str
    slug: str
    intitule: str
    organisme: str
    villes: list[str]
    prochaine_session: datetime.date | None
    certifiante: bool
    a_distance: bool
    objectif: str


def _resultat(publication: Publication, jour: datetime.date) -> Resultat:
    data = publication.data
    formation = data["formation"]
    villes, debuts = set(), []
    a_distance = False
    for action in data.get("actions", []):
        a_distance |= action.get("modalites_enseignement") == 2
        villes.update(lieu.get("ville") for lieu in action.get("lieux") or [] if lieu.get("ville"))
        debuts.extend(d for s in action.get("sessions", []) if (d := _date(s.get("debut"))) and d >= jour)
    organisme = formation.get("organisme") or {}
    objectif = " ".join((formation.get("objectif") or "").split())
    return Resultat(
        numero=formation.get("numero") or "",
        slug=slug_de(formation.get("intitule")),
        intitule=formation.get("intitule") or "",
        organisme=organisme.get("raison_sociale") or organisme.get("libelle") or "",
        villes=sorted(villes),
        prochaine_session=min(debuts) if debuts else None,
        certifiante=bool(formation.get("certifiante")),
        a_distance=a_distance,
        objectif=objectif[:240] + ("…" if len(objectif) > 240 else ""),
    )


@dataclass
class PageDeResultats:
    form: RecherchePubliqueForm
    page: Page | None = None
    resultats: list[Resultat] = field(default_factory=list)
    pertinence_plafonnee: bool = False  # see ofeli.recherche.services.documents_classes

    @property
    def total(self) -> int:
        return min(self.page.paginator.count, recherche_services.PLAFOND_COMPTE) if self.page is not None else 0

    @property
    def plafond_atteint(self) -> bool:
        return self.page is not None and self.page.paginator.plafond_atteint


def resultats(form: RecherchePubliqueForm, numero_page=None, *, aujourd_hui: datetime.date | None = None):
    """One page of the public search (the form must be bound; an invalid form gives no page)."""
    if not form.is_valid():
        return PageDeResultats(form=form)
    jour = aujourd_hui or timezone.localdate()
    restriction = None if form.cleaned_data.get("terminees") else Q(derniere_session__gte=jour)
    criteres = form.criteres()
    # As the staff's search: the GIN index answers the words, never a read of every document's vector.
    with index_plein_texte(criteres.texte, Kind.PUBLICATION):
        documents, compte, plafonne = documents_classes(
            criteres, kind=Kind.PUBLICATION, aujourd_hui=jour, restriction=restriction
        )
        page = PaginatorPlafonne(documents.values_list("formation_id", flat=True), PAR_PAGE, compte=compte).get_page(
            numero_page
        )
        ids = list(page.object_list)
    publications = {
        p.formation_id: p
        for p in Publication.objects.courantes().filter(formation_id__in=ids).only("id", "formation_id", "data")
    }
    liste = [_resultat(publications[i], jour) for i in ids if i in publications]
    return PageDeResultats(form=form, page=page, resultats=liste, pertinence_plafonnee=plafonne)
