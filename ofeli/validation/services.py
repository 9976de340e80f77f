"""Reads of the équipe offre's validation screens: the review queue and an item's history.

Writes are in ofeli.validation.workflow.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.db.models import Exists, FloatField, Func, OuterRef, Prefetch, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.organismes.models import Organisme

from . import delais
from .models import Publication, Transition


class TypeChangement:
    NOUVELLE_FORMATION = "nouvelle_formation"
    MODIFICATION = "modification"
    NOUVELLE_SESSION = "nouvelle_session"

    choices = [
        (NOUVELLE_FORMATION, "Nouvelle formation"),
        (MODIFICATION, "Modification"),
        (NOUVELLE_SESSION, "Nouvelle session"),
    ]
    labels = dict(choices)


@dataclass
class Element:
    """One item of the queue: a pending formation (with its pending sessions) or a pending session alone.

    The delays are computed on first use: a page of the queue computes them for its 50 items only.
    """

    objet: str  # "formation" or "session"
    obj: Formation | Session
    formation: Formation
    type: str
    soumise_at: object
    maintenant: object

    @cached_property
    def echeance(self):
        return delais.echeance(self.soumise_at)

    @cached_property
    def heures_restantes(self) -> float:
        return delais.heures_restantes(self.soumise_at, self.maintenant)

    @cached_property
    def en_retard(self) -> bool:
        return delais.en_retard(self.soumise_at, self.maintenant)

    @property
    def cle(self) -> str:
        """What the bulk form posts: kind, pk and the version shown."""
        return f"{self.objet}:{self.obj.pk}:{self.obj.version}"

    @property
    def type_label(self) -> str:
        return TypeChangement.labels[self.type]

    @property
    def delai_label(self) -> str:
        texte = delais.formater_heures(self.heures_restantes)
        return f"En retard de {texte}" if self.en_retard else f"{texte} restantes"

    @property
    def dispositifs(self) -> list[str]:
        if self.objet == "session":
            return [self.obj.action.get_dispositif_display()]
        return sorted({a.get_dispositif_display() for a in self.formation.actions.all()})


def _pending_formations():
    return Formation.objects.filter(etat=Etat.EN_ATTENTE)


def _pending_sessions():
    """Pending sessions of a formation that is not itself pending or in complement (those go with it).

    The test is on the action's formation_id against the (indexed) set of formations en suspens, not on a join
    to every formation: the formation row is read only for the few sessions kept.
    """
    en_suspens = Formation.objects.filter(etat__in=[Etat.EN_ATTENTE, Etat.COMPLEMENT]).values("pk")
    return Session.objects.filter(etat=Etat.EN_ATTENTE).exclude(action__formation_id__in=en_suspens)


class _Epoch(Func):
    """EXTRACT(EPOCH …) of a timestamp as a float (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()


def parmi(ids) -> Q:
    """pk IN ids: on PostgreSQL one array parameter rather than one placeholder per id (the queue's thousand
    organismes cost psycopg more to bind than the query costs to run)."""
    ids = list(ids)
    if connection.vendor == "postgresql" and len(ids) > 50:
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
    return Q(pk__in=ids)


def _diffusee():
    return Exists(Publication.objects.filter(formation=OuterRef("pk"), closed_at__isnull=True))


class File(Sequence):
    """The queue, oldest submission first, as a sequence of Elements (what Paginator takes).

    Only the sort keys of the whole queue are read (a few columns per item): the objects, their organisme and
    their actions are loaded for the slice shown, so a page costs the same with 100 or 10,000 items waiting.
    """

    def __init__(self, cles: list[tuple], maintenant):
        # cles: (instant, objet, pk, type), sorted as the queue shows them; instant: the submission (else the last
        # update) in seconds since 1970
        self.cles = cles
        self.maintenant = maintenant
        self.organisme_ids: set[int] = set()  # organismes with something in the whole queue
        self.toutes: list[tuple] = []  # the whole queue's keys, with organisme and dispositif (for the filters)

    def filtrer(self, *, organisme=None, departement="", dispositif="", type_changement="") -> "File":
        """The same queue restricted to the staff's filters (no filter: the whole queue)."""
        retenue = _filtre(self.toutes, organisme=organisme, departement=departement, dispositif=dispositif)
        cles = [  # self.toutes is sorted: so is any part of it
            (cle, objet, pk, type_)
            for cle, objet, pk, type_, organisme_id, dispositif_ in self.toutes
            if (not type_changement or type_ == type_changement) and retenue(objet, pk, organisme_id, dispositif_)
        ]
        file = File(cles, self.maintenant)
        file.toutes, file.organisme_ids = self.toutes, self.organisme_ids
        return file

    def __len__(self):
        return len(self.cles)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._charger(self.cles[index])
        return self._charger([self.cles[index]])[0]

    def legers(self) -> list[Element]:
        """The items without their objects: enough for the delays (nombre_en_retard)."""
        return _Legers(self.cles, self.maintenant)

    def _charger(self, cles) -> list[Element]:
        ids = {"formation": [], "session": []}
        for _, objet, pk, _ in cles:
            ids[objet].append(pk)
        formations = {}
        if ids["formation"]:
            formations = (
                Formation.objects.select_related("organisme")
                .prefetch_related(Prefetch("actions", queryset=Action.objects.order_by("id")))
                .in_bulk(ids["formation"])
            )
        sessions = {}
        if ids["session"]:
            sessions = Session.objects.select_related("action__formation__organisme").in_bulk(ids["session"])
        elements = []
        for _, objet, pk, type_ in cles:
            obj = (formations if objet == "formation" else sessions).get(pk)
            if obj is None:  # deleted since the keys were read
                continue
            formation = obj if objet == "formation" else obj.action.formation
            elements.append(
                Element(
                    objet=objet,
                    obj=obj,
                    formation=formation,
                    type=type_,
                    soumise_at=obj.soumise_at or obj.updated_at,
                    maintenant=self.maintenant,
                )  # fmt: skip
            )
        return elements


class _Legers(Sequence):
    def __init__(self, cles, maintenant):
        self.cles = cles
        self.maintenant = maintenant

    def __len__(self):
        return len(self.cles)

    def __getitem__(self, index):
        instant, objet, _, type_ = self.cles[index]
        soumise_at = datetime.datetime.fromtimestamp(instant, tz=datetime.UTC)
        return Element(objet=objet, obj=None, formation=None, type=type_, soumise_at=soumise_at,
                       maintenant=self.maintenant)  # fmt: skip


def file_elements(*, organisme=None, departement="", dispositif="", type_changement="", maintenant=None) -> File:
    """The queue, oldest submission first, filtered as the staff asked.

    Two queries read the keys of the whole queue (formations, sessions) with what the filters need; the filters
    are applied to those keys, so `File.organisme_ids` (organismes with something waiting, for the filter's
    list) comes without another pass over the offer.
    """
    maintenant = maintenant or timezone.now()
    soumise = Coalesce("soumise_at", "updated_at")
    if connection.vendor == "postgresql":
        # Seconds as a float from the database: parsing 10,000 timestamps into datetimes costs more than the query.
        soumise, instant = _Epoch(soumise), float
    else:
        instant = datetime.datetime.timestamp
    toutes = []
    # A formation with a current publication is a change to what is diffused, else a new formation.
    for cle, pk, diffusee, organisme_id in (
        _pending_formations()
        .annotate(cle=soumise, diffusee=_diffusee())
        .order_by()
        .values_list("cle", "pk", "diffusee", "organisme_id")
    ):
        type_ = TypeChangement.MODIFICATION if diffusee else TypeChangement.NOUVELLE_FORMATION
        toutes.append((instant(cle), "formation", pk, type_, organisme_id, None))
    sessions = list(
        _pending_sessions()
        .annotate(cle=soumise)
        .order_by()
        .values_list("cle", "pk", "numero", "action__formation_id", "action__dispositif")
    )
    # The organisme of the few formations concerned, by their primary key (no join of every formation).
    organismes = dict(
        Formation.objects.filter(parmi({s[3] for s in sessions})).order_by().values_list("pk", "organisme_id")
    )
    for cle, pk, numero, formation_id, dispositif_ in sessions:
        type_ = TypeChangement.MODIFICATION if numero else TypeChangement.NOUVELLE_SESSION
        toutes.append((instant(cle), "session", pk, type_, organismes[formation_id], dispositif_))
    toutes.sort(key=lambda c: c[:3])

    file = File([], maintenant)
    file.toutes = toutes
    file.organisme_ids = {c[4] for c in toutes}
    return file.filtrer(
        organisme=organisme, departement=departement, dispositif=dispositif, type_changement=type_changement
    )


def _filtre(toutes, *, organisme, departement, dispositif):
    """The test of the staff's filters on one key (organisme, département of the organisme, dispositif)."""
    organisme_id = getattr(organisme, "pk", organisme)
    du_departement = None
    if departement:
        du_departement = set(
            Organisme.objects.filter(parmi({c[4] for c in toutes}), departement=departement).values_list(
                "pk", flat=True
            )
        )
    formations_du_dispositif = None
    if dispositif:
        formations_du_dispositif = set(
            Action.objects.filter(dispositif=dispositif, formation__etat=Etat.EN_ATTENTE).values_list(
                "formation_id", flat=True
            )
        )

    def retenue(objet, pk, organisme_de, dispositif_de) -> bool:
        if organisme_id is not None and organisme_de != organisme_id:
            return False
        if du_departement is not None and organisme_de not in du_departement:
            return False
        if dispositif:
            if objet == "formation":
                return pk in formations_du_dispositif
            return dispositif_de == dispositif
        return True

    return retenue


def nombre_en_retard(elements) -> int:
    """How many items of the queue (oldest first, as file_elements sorts it) are past their deadline.

    Being late is monotonic in the submission date, so a binary search finds the boundary with about
    log2(n) delay computations instead of n.
    """
    if isinstance(elements, File):
        elements = elements.legers()
    bas, haut = 0, len(elements)
    while bas < haut:
        milieu = (bas + haut) // 2
        if elements[milieu].en_retard:
            bas = milieu + 1
        else:
            haut = milieu
    return bas


def journal(formation) -> list[Transition]:
    """The transition log of a formation and of its actions and sessions, newest first."""
    return list(
        Transition.objects.filter(formation=formation)
        .select_related("user", "session", "action")
        .order_by("-created_at", "-id")
    )
