"""Reminders to the OFs: a weekly digest of what needs their attention.

Three kinds of reminder (TypeRappel), for the offer an OF may update (not the Région's, AFC or POEC offer, nor
what the OF archived), of active organismes:

- a session that ends within FIN_PROCHE_JOURS days while still open to recruitment;
- a formation not updated (neither itself nor any of its sessions) for ANCIENNETE_JOURS days;
- a request for complement of information still unanswered DELAI_COMPLEMENT_JOURS days after it was sent.

Each OF's active contacts get one in-app notice and one e-mail (messagerie's notices, type "rappel": the e-mail
follows each contact's preference) listing every item due, grouped by kind: a digest. Rules of the period:

- an OF gets at most one digest every INTERVALLE_JOURS days (7): so does each of its contacts;
- an item is not repeated before its own period (REPETITION_JOURS): a session's end is reminded once (again only
  if its end date changes), a formation without update every 30 days, an unanswered request every week.

What was sent is recorded (EnvoiRappel, RappelElement): running `envoyer_rappels` again the same day, or every
day of the week, sends nothing twice. The management command `envoyer_rappels` and the daily Huey task call
`envoyer_rappels()`.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.urls import reverse
from django.utils import timezone

from ofeli.messagerie.models import TypeNotification
from ofeli.offre.models import SOURCES_SAISIE_LIBRE, SOURCES_SESSIONS_SEULEMENT, Etat, EtatRecrutement, Formation
from ofeli.offre.models import Session as SessionFormation
from ofeli.organismes.models import Organisme
from ofeli.validation.models import DemandeComplement

from .models import EnvoiRappel, RappelElement, TypeRappel

FIN_PROCHE_JOURS = 30
ANCIENNETE_JOURS = 365
DELAI_COMPLEMENT_JOURS = 7
INTERVALLE_JOURS = 7
# None: once per situation (the key says the situation); else the days before the same item is reminded again.
REPETITION_JOURS = {
    TypeRappel.SESSION_FIN_PROCHE: None,
    TypeRappel.FORMATION_ANCIENNE: 30,
    TypeRappel.COMPLEMENT_SANS_REPONSE: 7,
}
SOURCES_MODIFIABLES = [s.value for s in SOURCES_SAISIE_LIBRE | SOURCES_SESSIONS_SEULEMENT]
ORDRE = list(TypeRappel)


@dataclasses.dataclass(frozen=True)
class Element:
    organisme_id: int
    type: str
    cle: str
    libelle: str
    detail: str
    lien: str


@dataclasses.dataclass
class Resultat:
    """What a run did (or would do, in simulation): {organisme: [elements]}."""

    envois: dict = dataclasses.field(default_factory=dict)
    reportes: int = 0  # OFs with items but a digest sent less than INTERVALLE_JOURS days ago

    @property
    def nb_organismes(self) -> int:
        return len(self.envois)

    @property
    def nb_elements(self) -> int:
        return sum(len(e) for e in self.envois.values())


# --- what is due -----------------------------------------------------------------------------


def _sessions_fin_proche(aujourd_hui):
    sessions = (
        SessionFormation.objects.filter(
            etat_recrutement=EtatRecrutement.OUVERT,
            fin__gte=aujourd_hui,
            fin__lte=aujourd_hui + datetime.timedelta(days=FIN_PROCHE_JOURS),
            action__formation__source__in=SOURCES_MODIFIABLES,
            action__formation__organisme__actif=True,
        )
        .exclude(etat=Etat.ARCHIVE_OF)
        .exclude(action__formation__etat=Etat.ARCHIVE_OF)
        .select_related("action__formation")
        .order_by("fin", "pk")
    )
    for s in sessions:
        formation = s.action.formation
        yield Element(
            organisme_id=formation.organisme_id,
            type=TypeRappel.SESSION_FIN_PROCHE,
            cle=f"session:{s.pk}:{s.fin.isoformat()}",
            libelle=f"{formation.intitule} — session du {s.debut:%d/%m/%Y} au {s.fin:%d/%m/%Y}",
            detail=f"se termine le {s.fin:%d/%m/%Y} et reste ouverte au recrutement",
            lien=reverse("offre:session_detail", args=[s.pk]),
        )


def _formations_anciennes(maintenant):
    seuil = maintenant - datetime.timedelta(days=ANCIENNETE_JOURS)
    recentes = SessionFormation.objects.filter(action__formation=OuterRef("pk"), updated_at__gte=seuil)
    formations = (
        Formation.objects.filter(updated_at__lt=seuil, source__in=SOURCES_MODIFIABLES, organisme__actif=True)
        .exclude(etat=Etat.ARCHIVE_OF)
        .exclude(Exists(recentes))
        .annotate(derniere_session=Max("actions__sessions__updated_at"))
        .order_by("updated_at", "pk")
    )
    for f in formations:
        derniere = max(d for d in (f.updated_at, f.derniere_session) if d)
        yield Element(
            organisme_id=f.organisme_id,
            type=TypeRappel.FORMATION_ANCIENNE,
            cle=f"formation:{f.pk}",
            libelle=f.intitule,
            detail=f"dernière mise à jour le {timezone.localtime(derniere):%d/%m/%Y}",
            lien=reverse("offre:formation_detail", args=[f.pk]),
        )


def _complements_sans_reponse(maintenant):
    seuil = maintenant - datetime.timedelta(days=DELAI_COMPLEMENT_JOURS)
    demandes = (
        DemandeComplement.objects.ouvertes()
        .filter(demandee_at__lte=seuil, organisme__actif=True)
        .select_related("formation", "session")
        .order_by("demandee_at", "pk")
    )
    for d in demandes:
        if d.session is not None:
            libelle = f"{d.formation.intitule} — session du {d.session.debut:%d/%m/%Y}"
            lien = reverse("offre:session_detail", args=[d.session_id])
        else:
            libelle = d.formation.intitule
            lien = reverse("offre:formation_detail", args=[d.formation_id])
        yield Element(
            organisme_id=d.organisme_id,
            type=TypeRappel.COMPLEMENT_SANS_REPONSE,
            cle=f"demande:{d.pk}",
            libelle=libelle,
            detail=f"complément demandé le {timezone.localtime(d.demandee_at):%d/%m/%Y}, sans réponse",
            lien=d.lien if d.lien.startswith("/") and not d.lien.startswith("//") else lien,
        )


def elements_a_rappeler(*, aujourd_hui=None, maintenant=None) -> dict[int, list[Element]]:
    """Every situation worth a reminder now, by organisme id (before the period rules)."""
    maintenant = maintenant or timezone.now()
    aujourd_hui = aujourd_hui or timezone.localdate(maintenant)
    par_organisme: dict[int, list[Element]] = defaultdict(list)
    for source in (
        _sessions_fin_proche(aujourd_hui),
        _formations_anciennes(maintenant),
        _complements_sans_reponse(maintenant),
    ):
        for element in source:
            par_organisme[element.organisme_id].append(element)
    return par_organisme


def _dus(organisme_id, elements, aujourd_hui) -> list[Element]:
    """The elements not reminded within their period."""
    derniers = {
        (row["type"], row["cle"]): row["dernier"]
        for row in RappelElement.objects.filter(organisme_id=organisme_id, cle__in=[e.cle for e in elements])
        .values("type", "cle")
        .annotate(dernier=Max("envoye_at"))
    }
    dus = []
    for e in elements:
        dernier = derniers.get((e.type, e.cle))
        repetition = REPETITION_JOURS[TypeRappel(e.type)]
        if dernier is None or (
            repetition is not None and timezone.localdate(dernier) <= aujourd_hui - datetime.timedelta(days=repetition)
        ):
            dus.append(e)
    return dus


def _recent(organisme_id, aujourd_hui) -> bool:
    return EnvoiRappel.objects.filter(
        organisme_id=organisme_id, date__gt=aujourd_hui - datetime.timedelta(days=INTERVALLE_JOURS)
    ).exists()


# --- the digest ------------------------------------------------------------------------------


def grouper(elements) -> list[tuple[str, list]]:
    """[(kind's label, [elements])] in the order of TypeRappel, empty kinds left out."""
    groupes = defaultdict(list)
    for e in elements:
        groupes[TypeRappel(e.type)].append(e)
    return [(t.label, groupes[t]) for t in ORDRE if groupes[t]]


def texte_recapitulatif(elements) -> str:
    lignes = []
    for label, groupe in grouper(elements):
        lignes.append(f"{label} ({len(groupe)}) :")
        lignes.extend(f"- {e.libelle} ({e.detail}) : {settings.SITE_URL}{e.lien}" for e in groupe)
        lignes.append("")
    return "\n".join(lignes).strip()


def sujet_recapitulatif(elements) -> str:
    n = len(elements)
    return f"Rappels OFeli : {n} point{'s' if n > 1 else ''} à mettre à jour dans votre offre"


@transaction.atomic
def _envoyer(organisme_id, elements, aujourd_hui) -> EnvoiRappel | None:
    from ofeli.messagerie.notifications import destinataires, notifier

    # Serialises two runs at the same time for the same OF.
    organisme = Organisme.objects.select_for_update().get(pk=organisme_id)
    if _recent(organisme_id, aujourd_hui):
        return None
    dus = _dus(organisme_id, elements, aujourd_hui)
    if not dus or not destinataires(organisme):
        # Nothing due, or nobody to tell (no active contact): nothing is recorded, the items stay due.
        return None
    envoi = EnvoiRappel.objects.create(organisme=organisme, date=aujourd_hui)
    notices = notifier(
        organisme=organisme,
        type=TypeNotification.RAPPEL,
        sujet=sujet_recapitulatif(dus),
        texte=texte_recapitulatif(dus),
        lien=reverse("campagnes:rappels"),
    )
    envoi.nb_destinataires = len(notices)
    envoi.save(update_fields=["nb_destinataires"])
    RappelElement.objects.bulk_create(
        [
            RappelElement(
                envoi=envoi,
                organisme=organisme,
                type=e.type,
                cle=e.cle,
                libelle=e.libelle[:300],
                detail=e.detail[:300],
                lien=e.lien[:500],
            )
            for e in dus
        ]
    )
    return envoi


def envoyer_rappels(*, aujourd_hui=None, simulation: bool = False) -> Resultat:
    """Sends each OF its digest of reminders when one is due (one transaction per OF).

    `simulation=True` writes and sends nothing and returns what would be sent.
    """
    maintenant = timezone.now()
    aujourd_hui = aujourd_hui or timezone.localdate(maintenant)
    resultat = Resultat()
    for organisme_id, elements in sorted(elements_a_rappeler(aujourd_hui=aujourd_hui, maintenant=maintenant).items()):
        if simulation:
            if _recent(organisme_id, aujourd_hui):
                resultat.reportes += 1
                continue
            dus = _dus(organisme_id, elements, aujourd_hui)
            if dus:
                resultat.envois[organisme_id] = dus
            continue
        if _recent(organisme_id, aujourd_hui):
            resultat.reportes += 1
            continue
        envoi = _envoyer(organisme_id, elements, aujourd_hui)
        if envoi is not None:
            resultat.envois[organisme_id] = list(envoi.elements.all())
    return resultat
