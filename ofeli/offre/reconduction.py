"""Rollover ("Reconduire") of sessions to the next year, as drafts to check and submit.

`reconduire_sessions` copies each chosen session of year N (by its start date) into a new session of
the same formation for year N+1 (`annee_cible`), through `services.session_creer`: the same rules as a
new session, in "Brouillon", never submitted by the rollover. Dates move by one year (a 29 February
becomes 28 February); the période d'inscription moves too; places restantes are cleared (unknown for
the new session) and the état du recrutement is "Ouvert". A recurring session (entrée sortie
permanente) gets its period renewed: 01/01 to 31/12 of the target year (or to the 31/03 after, as it was).

Each copy records its origin (models.Reconduction, unique per origin and year): running the rollover
again for the same session and year creates nothing, even two runs at the same time. Each session is
carried in its own savepoint: a refused one leaves the others. `simulation=True` runs every check and
every write, then rolls everything back: the preview shows exactly what the rollover would do.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from ofeli.messagerie.models import TypeNotification
from ofeli.messagerie.notifications import notifier

from . import rules, services
from .masse import _messages, peut_saisir
from .models import SOURCES_SAISIE_LIBRE, SOURCES_SESSIONS_SEULEMENT, Etat, EtatRecrutement, Reconduction, Session


class _Simulation(Exception):
    """Raised to roll a simulated rollover back."""


def decaler(date: datetime.date | None, annees: int = 1) -> datetime.date | None:
    """The same day `annees` years later; 29 February becomes 28 February in a common year."""
    if date is None:
        return None
    annee = date.year + annees
    try:
        return date.replace(year=annee)
    except ValueError:  # 29 February → a year without one
        return date.replace(year=annee, day=28)


@dataclass
class NouvellesDates:
    debut: datetime.date
    fin: datetime.date
    inscription_debut: datetime.date | None
    inscription_fin: datetime.date | None


def nouvelles_dates(session: Session, annee_cible: int) -> NouvellesDates:
    """The dates of the session carried to `annee_cible` (its start year must be annee_cible - 1)."""
    ecart = annee_cible - session.debut.year
    debut, fin = decaler(session.debut, ecart), decaler(session.fin, ecart)
    if session.action.entree_sortie_permanente:
        # Recurring session: the period is renewed for the whole target year, as the rule asks.
        debut = datetime.date(annee_cible, 1, 1)
        if not datetime.date(annee_cible, 12, 31) <= fin <= datetime.date(annee_cible + 1, 3, 31):
            fin = datetime.date(annee_cible, 12, 31)
    return NouvellesDates(
        debut=debut,
        fin=fin,
        inscription_debut=decaler(session.inscription_debut, ecart),
        inscription_fin=decaler(session.inscription_fin, ecart),
    )


@dataclass
class Ligne:
    origine: Session
    dates: NouvellesDates | None = None
    session: Session | None = None  # the new session (or, for one already carried, the existing copy)
    raisons: list[str] = field(default_factory=list)

    @property
    def formation(self):
        return self.origine.action.formation


@dataclass
class Resultat:
    annee: int
    simulation: bool = False
    reconduites: list[Ligne] = field(default_factory=list)
    deja_reconduites: list[Ligne] = field(default_factory=list)
    refusees: list[Ligne] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.reconduites) + len(self.deja_reconduites) + len(self.refusees)


def sessions_reconductibles(queryset, annee: int):
    """The sessions of `queryset` starting in `annee` that one may carry forward (not archived)."""
    return (
        queryset.filter(debut__year=annee)
        .exclude(etat=Etat.ARCHIVE_OF)
        .exclude(action__formation__etat=Etat.ARCHIVE_OF)
        .select_related("action__formation__organisme")
    )


def reconduire_organisme(*, organisme, annee_cible: int, simulation: bool = False) -> Resultat:
    """The GIP's yearly rollover for one organisme (`manage.py reconduire_sessions`): every validated session of
    `annee_cible - 1` of the formations an OF may add sessions to, carried as drafts; then the OF's contacts are
    told (a notice, and an e-mail to those who want reminders) that drafts wait for them to check and submit."""
    sessions = sessions_reconductibles(
        Session.objects.filter(
            action__formation__organisme=organisme,
            etat=Etat.VALIDEE,
            action__formation__source__in=SOURCES_SAISIE_LIBRE | SOURCES_SESSIONS_SEULEMENT,
        ),
        annee_cible - 1,
    ).order_by("debut", "pk")
    ids = list(sessions.values_list("pk", flat=True))
    resultat = Resultat(annee=annee_cible, simulation=simulation)
    if not ids:
        return resultat
    resultat = reconduire_sessions(user=None, sessions=ids, annee_cible=annee_cible, simulation=simulation)
    if resultat.reconduites and not simulation:
        n = len(resultat.reconduites)
        pluriel = "s" if n > 1 else ""
        notifier(
            organisme=organisme,
            type=TypeNotification.RAPPEL,
            sujet=f"Sessions reconduites en {annee_cible} : à vérifier et soumettre",
            texte=(
                f"L'équipe offre a reconduit {n} session{pluriel} de {annee_cible - 1} sur {annee_cible}, en "
                f"brouillon : vérifiez leurs dates et leurs informations, puis soumettez-les à validation. Elles ne "
                "sont pas diffusées tant qu'elles n'ont pas été validées."
            ),
            lien=reverse("offre:reconduction_choisir") + f"?annee={annee_cible - 1}",
        )
    return resultat


def reconduire_sessions(*, user, sessions, annee_cible: int, simulation: bool = False) -> Resultat:
    """Carries each session of `sessions` (Session objects or ids) to `annee_cible`, as a new draft session.

    `user`: an OF contact with the right "saisir" on every session's organisme, staff, or None for the
    GIP's command (the system). Raises PermissionDenied when the user may not enter an organisme's offer.
    """
    if not 2000 <= int(annee_cible) <= 2100:
        raise ValidationError({"annee": ["Indiquez une année sur quatre chiffres."]})
    annee_cible = int(annee_cible)
    ids = [getattr(s, "pk", s) for s in sessions]
    par_id = {
        s.pk: s
        for s in Session.objects.filter(pk__in=ids).select_related("action__formation__organisme", "reconduite_de")
    }
    if user is not None and not user.is_staff:
        for organisme in {s.action.formation.organisme for s in par_id.values()}:
            if not peut_saisir(user, organisme):
                raise PermissionDenied("Vous n'avez pas le droit de saisir l'offre de cet organisme.")
    resultat = Resultat(annee=annee_cible, simulation=simulation)
    deja = {
        r.origine_id: r.session
        for r in Reconduction.objects.filter(origine_id__in=ids, annee=annee_cible).select_related("session")
    }
    try:
        with transaction.atomic():
            for pk in dict.fromkeys(ids):
                origine = par_id.get(pk)
                if origine is None:
                    continue
                _reconduire_une(user=user, origine=origine, annee_cible=annee_cible, deja=deja, resultat=resultat)
            if simulation:
                raise _Simulation
    except _Simulation:
        pass
    return resultat


def _reconduire_une(*, user, origine: Session, annee_cible: int, deja: dict, resultat: Resultat):
    ligne = Ligne(origine=origine)
    formation = origine.action.formation
    if origine.pk in deja:
        ligne.session = deja[origine.pk]
        ligne.raisons = [f"Déjà reconduite en {annee_cible} : rien n'est créé une seconde fois."]
        resultat.deja_reconduites.append(ligne)
        return
    if origine.debut.year != annee_cible - 1:
        ligne.raisons = [
            f"La session commence en {origine.debut.year} : seules les sessions commençant en {annee_cible - 1} "
            f"sont reconduites en {annee_cible}."
        ]
        resultat.refusees.append(ligne)
        return
    if Etat.ARCHIVE_OF in (origine.etat, formation.etat):
        ligne.raisons = ["La session ou sa formation est archivée (Archive OF) : elle n'est pas reconduite."]
        resultat.refusees.append(ligne)
        return
    refus = rules.regle_source_session(formation.source)
    if refus:
        ligne.raisons = refus["__all__"]
        resultat.refusees.append(ligne)
        return
    ligne.dates = nouvelles_dates(origine, annee_cible)
    donnees = services.donnees_de_session(origine)
    donnees.update(
        debut=ligne.dates.debut,
        fin=ligne.dates.fin,
        inscription_debut=ligne.dates.inscription_debut,
        inscription_fin=ligne.dates.inscription_fin,
        places_restantes=None,
        places_date=None,
        etat_recrutement=EtatRecrutement.OUVERT,
    )
    try:
        with transaction.atomic():  # the session's own savepoint
            copie = _creer(user=user, origine=origine, donnees=donnees, annee_cible=annee_cible)
    except ValidationError as exc:
        ligne.raisons = _messages(exc)
        resultat.refusees.append(ligne)
        return
    except IntegrityError:  # carried forward at the same moment by another run
        ligne.session = Reconduction.objects.get(origine=origine, annee=annee_cible).session
        ligne.raisons = [f"Déjà reconduite en {annee_cible} : rien n'est créé une seconde fois."]
        resultat.deja_reconduites.append(ligne)
        return
    ligne.session = copie
    resultat.reconduites.append(ligne)


def _creer(*, user, origine: Session, donnees: dict, annee_cible: int) -> Session:
    """The new session (same rules as any new session), its origin recorded, the origin's attachments joined."""
    copie = services.session_creer(
        formation=origine.action.formation,
        user=user,
        donnees=donnees,
        pieces_copiees=list(origine.pieces_jointes.all()),
    )
    Reconduction.objects.create(origine=origine, session=copie, annee=annee_cible, created_by=user)
    return copie
