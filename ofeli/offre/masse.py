"""Bulk edit ("Modifier en masse"): one change applied to many sessions, through the single edit's service.

`modifier_sessions_en_masse` changes one field group (a contact, the lieux, the état du recrutement,
the période d'inscription, the price or the dispositif) on each chosen session by calling
`services.session_modifier` with the session's full data and that one change: the same rules
(ofeli.offre.rules, through verifier_session), the same history, and the same workflow (a validated
session goes back to validation, its last publication staying diffused). Each session is changed in
its own savepoint: a refused session leaves the others applied, and nothing of it is written.

Isolation: a session id outside the organisme (or unknown) is refused without saying anything about
it; a session of a source the OF may not change (Région, AFC, POEC) is refused with the guide's text.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ofeli.organismes.models import Contact, Lieu

from . import rules, services
from .models import Dispositif, EtatRecrutement, Session

# Most sessions one bulk edit may change (each is a full single edit, with its reindexing).
MAX_SESSIONS = 500


class Champ:
    CONTACTS_INFORMATION = "contacts_information"
    CONTACTS_INSCRIPTION = "contacts_inscription"
    LIEUX = "lieux"
    ETAT_RECRUTEMENT = "etat_recrutement"
    PERIODE_INSCRIPTION = "periode_inscription"
    PRIX = "prix"
    DISPOSITIF = "dispositif"

    CHOICES = [
        (CONTACTS_INFORMATION, "Contacts pour l'information"),
        (CONTACTS_INSCRIPTION, "Contacts pour l'inscription"),
        (LIEUX, "Lieux de formation"),
        (ETAT_RECRUTEMENT, "État du recrutement"),
        (PERIODE_INSCRIPTION, "Période d'inscription"),
        (PRIX, "Prix"),
        (DISPOSITIF, "Dispositif"),
    ]
    LIBELLES = dict(CHOICES)


MESSAGE_INTROUVABLE = "Session introuvable parmi les sessions de l'organisme : elle n'a pas été modifiée."
MESSAGE_INCHANGEE = "La session avait déjà cette valeur : rien à modifier."


@dataclass
class Ligne:
    """One session of the bulk edit and what happened to it."""

    session_id: int
    session: Session | None = None
    avant: str = ""
    apres: str = ""
    raisons: list[str] = field(default_factory=list)

    @property
    def formation(self):
        return self.session.action.formation if self.session else None


@dataclass
class Resultat:
    champ: str
    modifiees: list[Ligne] = field(default_factory=list)
    inchangees: list[Ligne] = field(default_factory=list)
    refusees: list[Ligne] = field(default_factory=list)

    @property
    def libelle_champ(self) -> str:
        return Champ.LIBELLES.get(self.champ, self.champ)

    @property
    def total(self) -> int:
        return len(self.modifiees) + len(self.inchangees) + len(self.refusees)


# --- values ------------------------------------------------------------------------------------


def _date(d: datetime.date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


def _prix(p) -> str:
    if p is None:
        return "—"
    return f"{p:,.2f} €".replace(",", "\u202f").replace(".", ",")


def _contacts(contacts) -> str:
    return ", ".join(sorted(c.user.get_full_name() or c.user.email for c in contacts)) or "—"


def _lieux(lieux) -> str:
    return " ; ".join(sorted(str(lieu) for lieu in lieux)) or "—"


def _periode(debut, fin) -> str:
    if not debut and not fin:
        return "—"
    return f"du {_date(debut)} au {_date(fin)}"


def decrire(champ: str, donnees: dict) -> str:
    """The value of the field group in a session's data, as the user reads it."""
    if champ in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION):
        return _contacts(donnees.get(champ) or [])
    if champ == Champ.LIEUX:
        return _lieux(donnees.get("lieux") or [])
    if champ == Champ.ETAT_RECRUTEMENT:
        valeur = donnees.get("etat_recrutement")
        return EtatRecrutement(valeur).label if valeur else "—"
    if champ == Champ.PERIODE_INSCRIPTION:
        return _periode(donnees.get("inscription_debut"), donnees.get("inscription_fin"))
    if champ == Champ.PRIX:
        return f"total {_prix(donnees.get('prix_total_ttc'))}, horaire {_prix(donnees.get('prix_horaire_ttc'))}"
    if champ == Champ.DISPOSITIF:
        valeur = donnees.get("dispositif")
        return Dispositif(valeur).label if valeur else "—"
    raise ValueError(champ)


def _changement(champ: str, valeur) -> dict:
    """The keys of a session's data the change sets. Checks the shape of `valeur` (French errors)."""
    if champ in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION):
        contacts = list(valeur or [])
        if not all(isinstance(c, Contact) for c in contacts):
            raise ValidationError({"valeur": ["Choisissez des contacts de l'organisme."]})
        return {champ: contacts}
    if champ == Champ.LIEUX:
        lieux = list(valeur or [])
        if not lieux or not all(isinstance(lieu, Lieu) for lieu in lieux):
            raise ValidationError({"valeur": ["Choisissez au moins un lieu de formation."]})
        return {"lieux": lieux}
    if champ == Champ.ETAT_RECRUTEMENT:
        try:
            return {"etat_recrutement": EtatRecrutement(int(valeur)).value}
        except (TypeError, ValueError):
            raise ValidationError({"valeur": ["Choisissez un état du recrutement."]}) from None
    if champ == Champ.PERIODE_INSCRIPTION:
        debut, fin = valeur if isinstance(valeur, list | tuple) and len(valeur) == 2 else (None, None)
        if not isinstance(debut, datetime.date) or not isinstance(fin, datetime.date):
            raise ValidationError({"valeur": ["Indiquez le début et la fin de la période d'inscription."]})
        rules_erreurs = rules.regle_periode_inscription(debut, fin)
        if rules_erreurs:
            raise ValidationError({"valeur": rules_erreurs["inscription_fin"]})
        return {"inscription_debut": debut, "inscription_fin": fin}
    if champ == Champ.PRIX:
        valeur = dict(valeur or {})
        prix = {k: valeur.get(k) for k in ("prix_total_ttc", "prix_horaire_ttc") if valeur.get(k) is not None}
        if not prix:
            raise ValidationError({"valeur": ["Indiquez le prix total TTC, le prix horaire TTC, ou les deux."]})
        for v in prix.values():
            if not isinstance(v, Decimal | int) or v < 0:
                raise ValidationError({"valeur": ["Un prix est un montant positif en euros."]})
        return prix
    if champ == Champ.DISPOSITIF:
        if valeur not in Dispositif.values:
            raise ValidationError({"valeur": ["Choisissez un dispositif de la liste."]})
        return {"dispositif": valeur}
    raise ValidationError({"champ": ["Choisissez ce que vous voulez modifier."]})


# --- rights and scope ------------------------------------------------------------------------------


def peut_saisir(user, organisme) -> bool:
    """Staff, or an active contact of `organisme` with the right "saisir l'offre"."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    return Contact.objects.filter(
        user=user, organisme=organisme, actif=True, peut_saisir=True, organisme__actif=True
    ).exists()


def _valeur_de_l_organisme(champ: str, changement: dict, organisme_id: int) -> list[str]:
    """Contacts and lieux must belong to the session's organisme (and be active)."""
    contacts = changement.get(champ, []) if champ in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION) else []
    if any(c.organisme_id != organisme_id or not c.actif for c in contacts):
        return ["Ce contact n'est pas un contact actif de l'organisme de cette session."]
    if any(lieu.organisme_id != organisme_id or not lieu.actif for lieu in changement.get("lieux", [])):
        return ["Ce lieu n'est pas un lieu de formation de l'organisme de cette session."]
    return []


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)


def modifier_sessions_en_masse(*, user, organisme, session_ids, champ: str, valeur) -> Resultat:
    """Applies one change to each session of `session_ids`, session by session, through session_modifier.

    `organisme`: the OF whose sessions are changed; staff may pass None to reach every OF's sessions.
    `champ`: a Champ value; `valeur`: contacts (list of Contact), lieux (list of Lieu), an
    EtatRecrutement value, (début, fin) dates, {"prix_total_ttc": …, "prix_horaire_ttc": …} (an absent
    or None price is left as it is) or a Dispositif value.
    Raises ValidationError (a bad change, too many sessions: nothing done) or PermissionDenied.
    """
    if organisme is None:
        if user is None or not user.is_staff:
            raise PermissionDenied("Choisissez l'organisme dont vous modifiez les sessions.")
    elif not peut_saisir(user, organisme):
        raise PermissionDenied("Vous n'avez pas le droit de saisir l'offre de cet organisme.")
    changement = _changement(champ, valeur)
    ids = []
    for brut in session_ids:
        try:
            pk = int(brut)
        except (TypeError, ValueError):
            continue
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise ValidationError({"sessions": ["Cochez au moins une session."]})
    if len(ids) > MAX_SESSIONS:
        raise ValidationError(
            {"sessions": [f"Vous avez choisi {len(ids)} sessions : modifiez-en {MAX_SESSIONS} au plus à la fois."]}
        )

    qs = Session.objects.filter(pk__in=ids).select_related("action__formation__organisme")
    if organisme is not None:
        qs = qs.filter(action__formation__organisme=organisme)
    trouvees = {s.pk: s for s in qs}
    resultat = Resultat(champ=champ)
    with transaction.atomic():
        for pk in ids:
            session = trouvees.get(pk)
            if session is None:
                resultat.refusees.append(Ligne(session_id=pk, raisons=[MESSAGE_INTROUVABLE]))
                continue
            resultat_ligne = _modifier_une(user=user, session=session, champ=champ, changement=changement)
            {"modifiee": resultat.modifiees, "inchangee": resultat.inchangees, "refusee": resultat.refusees}[
                resultat_ligne[0]
            ].append(resultat_ligne[1])
    return resultat


def _modifier_une(*, user, session: Session, champ: str, changement: dict) -> tuple[str, Ligne]:
    formation = session.action.formation
    ligne = Ligne(session_id=session.pk, session=session)
    refus = rules.regle_source_session(formation.source)
    if refus:
        ligne.raisons = refus["__all__"]
        return "refusee", ligne
    donnees = services.donnees_de_session(session)
    ligne.avant = decrire(champ, donnees)
    nouvelles = {**donnees, **changement}
    ligne.apres = decrire(champ, nouvelles)
    raisons = _valeur_de_l_organisme(champ, changement, formation.organisme_id)
    if raisons:
        ligne.raisons = raisons
        return "refusee", ligne
    if ligne.avant == ligne.apres and all(_egal(donnees.get(k), v) for k, v in changement.items()):
        ligne.raisons = [MESSAGE_INCHANGEE]
        return "inchangee", ligne
    try:
        with transaction.atomic():  # the session's own savepoint
            ligne.session = services.session_modifier(session=session, user=user, donnees=nouvelles, version=None)
    except ValidationError as exc:
        ligne.raisons = _messages(exc)
        return "refusee", ligne
    except services.ConflitDeVersion:
        ligne.raisons = ["La session a été modifiée au même moment par quelqu'un d'autre : recommencez."]
        return "refusee", ligne
    return "modifiee", ligne


def _egal(a, b) -> bool:
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return {getattr(x, "pk", x) for x in a or []} == {getattr(x, "pk", x) for x in b or []}
    return a == b
