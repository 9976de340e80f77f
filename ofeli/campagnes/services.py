"""The yearly campaign (guide: "le GIP vous sollicite chaque année pour vérifier et mettre à jour les formations
présentes dans OFeli"): one named function per write, keyword-only, each one transaction.

The path of a campaign:

1. `ouvrir_campagne`: staff open a campaign for a kind of offer (apprentissage or scolaire) and a period. The
   OFs concerned are the active organismes that have formations of that kind (not archived); each gets a
   `Participation`. Opening again the same campaign (same kind, same period) adds the OFs that became
   concerned since and duplicates nothing.
2. `notifier_participants`: each OF not yet told gets an in-app notice and an e-mail (messagerie's notices,
   type "rappel"); run after the opening's commit (a background task), safe to run again.
3. The OF checks its formations and sessions of that kind on the campaign page, updates or adds sessions,
   then `confirmer_offre` ("Je confirme mon offre"): recorded once, with who and when.
4. Staff follow OF by OF (`suivi_participations`) and `relancer` those that have not confirmed (one notice and
   e-mail each time, counted; an OF is reminded at most once a day).
5. `cloturer_campagne`: the campaign ends; its record stays.
"""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from ofeli.messagerie.models import TypeNotification
from ofeli.offre.models import Etat, Formation, Session
from ofeli.organismes.models import Organisme

from .models import Campagne, Participation, Relance, TypeOffre

SUJET_MAX = 200


# --- reads -----------------------------------------------------------------------------------


def formations_concernees(*, campagne, organisme=None):
    """The formations a campaign asks to check: of its kind, not archived by the OF."""
    qs = Formation.objects.filter(source=campagne.type_offre).exclude(etat=Etat.ARCHIVE_OF)
    if organisme is not None:
        qs = qs.filter(organisme=organisme)
    return qs


def organismes_concernes(type_offre: str):
    """Active organismes with at least one formation of this kind (not archived), with `nb` of them."""
    type_offre = TypeOffre(type_offre)
    return (
        Organisme.objects.filter(actif=True)
        .annotate(
            nb=Count("formations", filter=Q(formations__source=type_offre) & ~Q(formations__etat=Etat.ARCHIVE_OF))
        )
        .filter(nb__gt=0)
        .order_by("raison_sociale", "pk")
    )


def lien_campagne(campagne) -> str:
    """The OF's page of a campaign."""
    return reverse("campagnes:campagne", args=[campagne.pk])


def progression(campagne) -> dict:
    """{"confirmees": n, "total": n}: "12 organismes sur 40 ont confirmé"."""
    return campagne.participations.aggregate(
        total=Count("pk"), confirmees=Count("pk", filter=Q(confirmee_at__isnull=False))
    )


def _compte(qs, organisme_field: str):
    """A subquery counting the rows of `qs` for the outer participation's organisme (0 when none)."""
    return Coalesce(
        Subquery(
            qs.filter(**{organisme_field: OuterRef("organisme")})
            .order_by()
            .values(organisme_field)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def suivi_participations(campagne):
    """The participations of a campaign with what changed in the OF's offer of that kind since the opening:
    `sessions_ajoutees`, `sessions_modifiees` (created before the opening, changed after) and
    `formations_modifiees`, from the offer's creation and modification dates."""
    depuis = campagne.ouverte_at
    sessions = Session.objects.filter(action__formation__source=campagne.type_offre)
    formations = Formation.objects.filter(source=campagne.type_offre)
    return (
        campagne.participations.select_related("organisme", "confirmee_par")
        .annotate(
            sessions_ajoutees=_compte(sessions.filter(created_at__gte=depuis), "action__formation__organisme"),
            sessions_modifiees=_compte(
                sessions.filter(created_at__lt=depuis, updated_at__gte=depuis), "action__formation__organisme"
            ),
            formations_modifiees=_compte(formations.filter(updated_at__gte=depuis), "organisme"),
        )
        .order_by("organisme__raison_sociale", "pk")
    )


@dataclasses.dataclass
class CampagneEnCours:
    """What the OF's tableau de bord shows for one open campaign."""

    campagne: Campagne
    participation: Participation
    url: str
    nb_formations: int
    nb_sessions_brouillon: int
    jours_restants: int

    @property
    def confirmee(self) -> bool:
        return self.participation.confirmee

    @property
    def en_retard(self) -> bool:
        return self.jours_restants < 0


def campagnes_en_cours_pour(organisme, aujourd_hui: datetime.date | None = None) -> list[CampagneEnCours]:
    """The open campaigns the organisme takes part in, with what it has to check (for its tableau de bord)."""
    if organisme is None:
        return []
    aujourd_hui = aujourd_hui or timezone.localdate()
    participations = (
        Participation.objects.filter(campagne__statut=Campagne.Statut.OUVERTE, organisme=organisme)
        .select_related("campagne", "confirmee_par")
        .order_by("campagne__fin", "pk")
    )
    result = []
    for participation in participations:
        campagne = participation.campagne
        formations = formations_concernees(campagne=campagne, organisme=organisme)
        result.append(
            CampagneEnCours(
                campagne=campagne,
                participation=participation,
                url=lien_campagne(campagne),
                nb_formations=formations.count(),
                nb_sessions_brouillon=Session.objects.filter(
                    action__formation__in=formations, etat=Etat.BROUILLON
                ).count(),
                jours_restants=(campagne.fin - aujourd_hui).days,
            )
        )
    return result


# --- notices ---------------------------------------------------------------------------------


def _texte(campagne, *, relance: bool) -> str:
    type_label = campagne.get_type_offre_display().lower()
    debut = (
        f"Pour rappel, l'équipe offre vous a demandé de vérifier vos formations en {type_label}"
        if relance
        else f"Comme chaque année, l'équipe offre vous demande de vérifier et de mettre à jour vos formations "
        f"en {type_label} présentes dans OFeli"
    )
    lignes = [
        f"{debut}, avant le {campagne.fin:%d/%m/%Y}.",
        "Vérifiez chaque formation et ses sessions : mettez à jour les sessions, ajoutez les nouvelles, "
        "puis cliquez sur « Je confirme mon offre » sur la page de la campagne.",
    ]
    if campagne.message:
        lignes.append(campagne.message)
    return "\n\n".join(lignes)


def _prevenir(participation, *, relance: bool) -> int:
    from ofeli.messagerie.notifications import notifier

    campagne = participation.campagne
    type_label = campagne.get_type_offre_display().lower()
    if relance:
        sujet = f"Relance : confirmez votre offre en {type_label} avant le {campagne.fin:%d/%m/%Y}"
    else:
        sujet = f"Campagne annuelle : vérifiez vos formations en {type_label} avant le {campagne.fin:%d/%m/%Y}"
    notices = notifier(
        organisme=participation.organisme,
        type=TypeNotification.RAPPEL,
        sujet=sujet[:SUJET_MAX],
        texte=_texte(campagne, relance=relance),
        lien=lien_campagne(campagne),
    )
    return len(notices)


# --- writes ----------------------------------------------------------------------------------


def _exiger_staff(user):
    if user is None or not user.is_staff:
        raise ValidationError("Seule l'équipe offre gère les campagnes annuelles.")


def _verifier_periode(debut, fin, aujourd_hui):
    erreurs = {}
    if debut is None:
        erreurs["debut"] = "Indiquez la date de début de la campagne."
    if fin is None:
        erreurs["fin"] = "Indiquez la date de fin de la campagne."
    if not erreurs:
        if fin < debut:
            erreurs["fin"] = "La date de fin doit être postérieure ou égale à la date de début."
        elif fin < aujourd_hui:
            erreurs["fin"] = "La date de fin est passée : choisissez une date à venir."
    if erreurs:
        raise ValidationError(erreurs)


@transaction.atomic
def ouvrir_campagne(*, type_offre, debut, fin, user, message: str = "") -> Campagne:
    """Opens the campaign of `type_offre` for [debut, fin] and records the OFs concerned.

    Idempotent: the same open campaign (same kind and period) is returned, with the OFs that became concerned
    since added (those already in it are left as they are). Another open campaign of the same kind is an error:
    close it first. The OFs are told by `notifier_participants`, after commit.
    """
    _exiger_staff(user)
    try:
        type_offre = TypeOffre(type_offre)
    except ValueError:
        raise ValidationError(
            {"type_offre": "Choisissez les formations concernées : apprentissage ou scolaire."}
        ) from None
    _verifier_periode(debut, fin, timezone.localdate())
    message = (message or "").strip()
    if len(message) > 3000:
        raise ValidationError({"message": "Le message ne doit pas dépasser 3000 caractères."})
    existante = (
        Campagne.objects.select_for_update().filter(type_offre=type_offre, statut=Campagne.Statut.OUVERTE).first()
    )
    if existante is not None and (existante.debut, existante.fin) != (debut, fin):
        raise ValidationError(
            f"Une campagne {type_offre.label.lower()} est déjà en cours (du {existante.debut:%d/%m/%Y} au "
            f"{existante.fin:%d/%m/%Y}) : clôturez-la avant d'en ouvrir une autre."
        )
    campagne = existante or Campagne.objects.create(
        type_offre=type_offre, debut=debut, fin=fin, message=message, ouverte_par=user, ouverte_at=timezone.now()
    )
    deja = set(campagne.participations.values_list("organisme_id", flat=True))
    Participation.objects.bulk_create(
        [
            Participation(campagne=campagne, organisme=organisme, nb_formations=organisme.nb)
            for organisme in organismes_concernes(type_offre)
            if organisme.pk not in deja
        ]
    )
    transaction.on_commit(lambda: _notifier_plus_tard(campagne.pk))
    return campagne


def _notifier_plus_tard(campagne_id: int) -> None:
    from .tasks import campagne_notifier_task

    campagne_notifier_task(campagne_id)


def notifier_participants(*, campagne) -> int:
    """Tells each OF of the campaign not yet told (notice + e-mail), one transaction per OF. Returns how many
    OFs were told now. Running it again tells nobody twice."""
    nombre = 0
    for pk in campagne.participations.filter(notifiee_at__isnull=True).values_list("pk", flat=True):
        if _notifier_participation(pk):
            nombre += 1
    return nombre


@transaction.atomic
def _notifier_participation(pk: int) -> bool:
    participation = (
        Participation.objects.select_for_update().select_related("campagne", "organisme").filter(pk=pk).first()
    )
    if participation is None or participation.notifiee_at is not None or not participation.campagne.ouverte:
        return False
    participation.nb_destinataires = _prevenir(participation, relance=False)
    participation.notifiee_at = timezone.now()
    participation.save(update_fields=["nb_destinataires", "notifiee_at"])
    return True


def participation_pour(*, campagne, organisme) -> Participation:
    try:
        return Participation.objects.select_related("campagne").get(campagne=campagne, organisme=organisme)
    except Participation.DoesNotExist:
        raise ValidationError("Votre organisme n'est pas concerné par cette campagne.") from None


@transaction.atomic
def confirmer_offre(*, campagne, organisme, user) -> Participation:
    """ "Je confirme mon offre": the OF has checked its offer of the campaign's kind. Recorded once (a second
    confirmation changes nothing); refused once the campaign is closed."""
    participation = participation_pour(campagne=campagne, organisme=organisme)
    participation = Participation.objects.select_for_update().select_related("campagne").get(pk=participation.pk)
    if participation.confirmee_at is not None:
        return participation
    if not participation.campagne.ouverte:
        raise ValidationError("Cette campagne est clôturée : il n'est plus possible de confirmer votre offre.")
    participation.confirmee_at = timezone.now()
    participation.confirmee_par = user
    participation.save(update_fields=["confirmee_at", "confirmee_par"])
    return participation


@transaction.atomic
def relancer(*, participation, user) -> Relance | None:
    """Reminds an OF that has not confirmed (notice + e-mail), recorded with its count and date.

    Returns None, sending nothing, when the OF has confirmed or was already reminded today (a second click
    sends no second e-mail). Refused on a closed campaign.
    """
    _exiger_staff(user)
    participation = (
        Participation.objects.select_for_update().select_related("campagne", "organisme").get(pk=participation.pk)
    )
    if not participation.campagne.ouverte:
        raise ValidationError("Cette campagne est clôturée : les organismes ne peuvent plus être relancés.")
    if participation.confirmee_at is not None:
        return None
    if (
        participation.derniere_relance_at
        and timezone.localdate(participation.derniere_relance_at) == timezone.localdate()
    ):
        return None
    nombre = _prevenir(participation, relance=True)
    relance = Relance.objects.create(participation=participation, envoyee_par=user, nb_destinataires=nombre)
    participation.nb_relances += 1
    participation.derniere_relance_at = relance.envoyee_at
    participation.save(update_fields=["nb_relances", "derniere_relance_at"])
    return relance


def relancer_non_confirmes(*, campagne, user) -> int:
    """Reminds every OF of the campaign that has not confirmed (one transaction per OF). Returns how many were
    reminded now (those already reminded today are skipped)."""
    _exiger_staff(user)
    if not campagne.ouverte:
        raise ValidationError("Cette campagne est clôturée : les organismes ne peuvent plus être relancés.")
    nombre = 0
    for participation in campagne.participations.filter(confirmee_at__isnull=True).order_by("pk"):
        if relancer(participation=participation, user=user) is not None:
            nombre += 1
    return nombre


@transaction.atomic
def cloturer_campagne(*, campagne, user) -> Campagne:
    """Closes the campaign: no more confirmations nor reminders; everything recorded stays. Closing twice
    changes nothing."""
    _exiger_staff(user)
    campagne = Campagne.objects.select_for_update().get(pk=campagne.pk)
    if campagne.statut == Campagne.Statut.CLOSE:
        return campagne
    campagne.statut = Campagne.Statut.CLOSE
    campagne.close_at = timezone.now()
    campagne.close_par = user
    campagne.save(update_fields=["statut", "close_at", "close_par"])
    return campagne
