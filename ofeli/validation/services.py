"""Reads of the équipe offre's validation screens: the review queue and an item's history.

Writes are in ofeli.validation.workflow.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from ofeli.offre.models import Action, Etat, Formation, Session

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
    courante = Publication.objects.filter(formation=OuterRef("pk"), closed_at__isnull=True)
    return (
        Formation.objects.filter(etat=Etat.EN_ATTENTE)
        .annotate(diffusee=Exists(courante))
        .select_related("organisme")
        .prefetch_related(Prefetch("actions", queryset=Action.objects.order_by("id")))
    )


def _pending_sessions():
    return (
        Session.objects.filter(etat=Etat.EN_ATTENTE)
        .exclude(action__formation__etat=Etat.EN_ATTENTE)
        .exclude(action__formation__etat=Etat.COMPLEMENT)
        .select_related("action__formation__organisme")
    )


def file_elements(
    *, organisme=None, departement="", dispositif="", type_changement="", maintenant=None
) -> list[Element]:
    """The queue, oldest submission first, filtered as the staff asked."""
    maintenant = maintenant or timezone.now()
    formations = _pending_formations()
    sessions = _pending_sessions()
    if organisme is not None:
        formations = formations.filter(organisme=organisme)
        sessions = sessions.filter(action__formation__organisme=organisme)
    if departement:
        formations = formations.filter(organisme__departement=departement)
        sessions = sessions.filter(action__formation__organisme__departement=departement)
    if dispositif:
        formations = formations.filter(actions__dispositif=dispositif).distinct()
        sessions = sessions.filter(action__dispositif=dispositif)
    elements = []
    if type_changement in ("", TypeChangement.NOUVELLE_FORMATION, TypeChangement.MODIFICATION):
        for f in formations:
            type_ = TypeChangement.MODIFICATION if f.diffusee else TypeChangement.NOUVELLE_FORMATION
            if type_changement and type_ != type_changement:
                continue
            elements.append(_element("formation", f, f, type_, maintenant))
    if type_changement in ("", TypeChangement.NOUVELLE_SESSION, TypeChangement.MODIFICATION):
        for s in sessions:
            type_ = TypeChangement.MODIFICATION if s.numero else TypeChangement.NOUVELLE_SESSION
            if type_changement and type_ != type_changement:
                continue
            elements.append(_element("session", s, s.action.formation, type_, maintenant))
    elements.sort(key=lambda e: (e.soumise_at is None, e.soumise_at or maintenant, e.objet, e.obj.pk))
    return elements


def _element(objet, obj, formation, type_, maintenant) -> Element:
    return Element(
        objet=objet,
        obj=obj,
        formation=formation,
        type=type_,
        soumise_at=obj.soumise_at or obj.updated_at,
        maintenant=maintenant,
    )


def nombre_en_retard(elements: list[Element]) -> int:
    """How many items of the queue (oldest first, as file_elements sorts it) are past their deadline.

    Being late is monotonic in the submission date, so a binary search finds the boundary with about
    log2(n) delay computations instead of n.
    """
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
