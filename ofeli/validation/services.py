"""Reads of the équipe offre's validation screens: the review queue and an item's history.

Writes are in ofeli.validation.workflow.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.db import connection
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
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


def _diffusee():
    return Exists(Publication.objects.filter(formation=OuterRef("pk"), closed_at__isnull=True))


# Beyond this many ids, a sub-query rather than a list of parameters (SQLite allows 32,766 per statement).
_IDS_EN_PARAMETRES = 20_000


def sessions_seules() -> list[int]:
    """The ids of the pending sessions that wait alone (their formation is not itself pending).

    Read once per screen: telling them apart joins every action to its formation (≈ 30 ms at 100,000
    formations), while the queue's count, page and late count then read them by primary key.
    """
    return list(_pending_sessions().order_by().values_list("pk", flat=True))


def _sessions_parmi(ids: list[int]) -> Q:
    """pk IN ids (sessions_seules): on PostgreSQL one array parameter rather than one placeholder per id."""
    if connection.vendor == "postgresql" and len(ids) > 50:
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))
    if len(ids) > _IDS_EN_PARAMETRES:
        return Q(pk__in=_pending_sessions().values("pk"))
    return Q(pk__in=ids)


def _parts(*, organisme=None, departement="", dispositif="", type_changement="", seules=None):
    """The two halves of the queue (pending formations, pending sessions alone) with the staff's filters, each
    with the same columns: cle (the submission, else the last update), objet, pk, type; None for a half that
    the type filter leaves empty. `seules`: sessions_seules(), if already read."""
    soumise = Coalesce("soumise_at", "updated_at")
    organisme_id = getattr(organisme, "pk", organisme)
    formations = _pending_formations()
    seules = sessions_seules() if seules is None else seules
    sessions = Session.objects.filter(_sessions_parmi(seules)) if seules else None
    if organisme_id is not None:
        formations = formations.filter(organisme_id=organisme_id)
    if departement:
        formations = formations.filter(organisme__departement=departement)
    if dispositif:
        formations = formations.filter(Exists(Action.objects.filter(formation=OuterRef("pk"), dispositif=dispositif)))
    # A formation with a current publication is a change to what is diffused, else a new formation.
    formations = formations.annotate(
        cle=soumise,
        objet=Value("formation"),
        type=Case(
            When(_diffusee(), then=Value(TypeChangement.MODIFICATION)),
            default=Value(TypeChangement.NOUVELLE_FORMATION),
        ),
    )
    # The type filters test the conditions themselves, not the annotation: a CASE in the WHERE clause is
    # evaluated row by row (800 ms on a queue of 10,000), the EXISTS is a semi-join.
    if type_changement == TypeChangement.NOUVELLE_SESSION:
        formations = None
    elif type_changement == TypeChangement.MODIFICATION:
        formations = formations.filter(_diffusee())
    elif type_changement == TypeChangement.NOUVELLE_FORMATION:
        formations = formations.filter(~_diffusee())
    if sessions is None or type_changement == TypeChangement.NOUVELLE_FORMATION:
        return formations, None
    if organisme_id is not None:
        sessions = sessions.filter(action__formation__organisme_id=organisme_id)
    if departement:
        sessions = sessions.filter(action__formation__organisme__departement=departement)
    if dispositif:
        sessions = sessions.filter(action__dispositif=dispositif)
    # A session with a Carif number has been validated before.
    nouvelle = Q(numero__isnull=True) | Q(numero="")
    sessions = sessions.annotate(
        cle=soumise,
        objet=Value("session"),
        type=Case(
            When(nouvelle, then=Value(TypeChangement.NOUVELLE_SESSION)), default=Value(TypeChangement.MODIFICATION)
        ),
    )
    if type_changement == TypeChangement.NOUVELLE_SESSION:
        sessions = sessions.filter(nouvelle)
    elif type_changement == TypeChangement.MODIFICATION:
        sessions = sessions.exclude(nouvelle)
    return formations, sessions


class File(Sequence):
    """The queue, oldest submission first, as a sequence of Elements (what Paginator takes).

    The database counts and sorts the queue: one query for its length, one for the keys of the page shown
    (a UNION of pending formations and pending sessions, ORDER BY submission, LIMIT/OFFSET); the objects,
    their organisme and their actions are then loaded for that page only. Nothing grows with the queue in
    Python: a page costs about the same with 100 or 10,000 items waiting.
    """

    COLONNES = ("cle", "objet", "pk", "type")

    def __init__(self, formations, sessions, maintenant):
        self.formations, self.sessions = formations, sessions
        self.maintenant = maintenant

    def _union(self):
        parts = [qs.order_by().values_list(*self.COLONNES) for qs in (self.formations, self.sessions) if qs is not None]
        if not parts:
            return None
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]

    @cached_property
    def _longueur(self) -> int:
        return sum(qs.count() for qs in (self.formations, self.sessions) if qs is not None)

    def __len__(self):
        return self._longueur

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        union = self._union()
        if union is None:
            return []
        # Submission, then formations before sessions, then creation order: a stable order for the pages.
        return self._charger(list(union.order_by("cle", "objet", "pk")[index]))

    def nombre_en_retard(self) -> int:
        """How many of these items are past their deadline: those submitted at or before delais.limite_retard."""
        limite = delais.limite_retard(self.maintenant)
        return sum(qs.filter(cle__lte=limite).count() for qs in (self.formations, self.sessions) if qs is not None)

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


def file_elements(
    *, organisme=None, departement="", dispositif="", type_changement="", maintenant=None, seules=None
) -> File:
    """The queue, oldest submission first, filtered as the staff asked (sorted and counted when used).

    `seules`: sessions_seules(), when the caller has read them already (the queue screen, for its filter too).
    """
    formations, sessions = _parts(
        organisme=organisme,
        departement=departement,
        dispositif=dispositif,
        type_changement=type_changement,
        seules=seules,
    )
    return File(formations, sessions, maintenant or timezone.now())


def organismes_en_file(seules=None):
    """The organismes with something in the queue (the queue filter's list); `seules`: as for file_elements."""
    seules = sessions_seules() if seules is None else seules
    avec_sessions = Session.objects.filter(_sessions_parmi(seules)).values("action__formation__organisme_id")
    return Organisme.objects.filter(
        Q(pk__in=_pending_formations().values("organisme_id")) | (Q(pk__in=avec_sessions) if seules else Q())
    )


def journal(formation) -> list[Transition]:
    """The transition log of a formation and of its actions and sessions, newest first."""
    return list(
        Transition.objects.filter(formation=formation)
        .select_related("user", "session", "action")
        .order_by("-created_at", "-id")
    )
