"""The one workflow of the offer (design note 2): states, who may move what where, one function per transition.

Owned by the validation app. ofeli.offre calls `formation_soumettre`, `session_soumettre` and
`marquer_modifie`; the équipe offre's screens call the staff transitions; the OF's screens call
`complement_corrections_effectuees`, `formation_archiver` and `session_archiver`.

Every transition function is keyword-only and runs in one transaction: it locks the object
(select_for_update), checks the move against TRANSITIONS and the user's rights, checks the
version the screen showed (`version=`, optional) so nobody acts on a stale page, writes one
Transition row per object moved, and notifies the OF (in-app notices at once, e-mails on commit).
Errors are ValidationError with a French message (code "transition", "version" or "droits")
or PermissionDenied.

Validating publishes: a new Publication (snapshot) of the formation replaces the current one;
the Carif numbers (F, A, S) are given on first validation (ofeli.validation.numeros).
"""

import functools

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.recherche import index as search_index

from . import numeros, snapshot
from .models import DemandeComplement, Publication, Transition

OF, STAFF, SYSTEM = "of", "staff", "system"

# (from, to) -> who may trigger it: "of" (contact with the right "saisir"; staff may act for an OF),
# "staff" (équipe offre), "system" (a change recorded by OFeli itself, e.g. an import).
TRANSITIONS = {
    # submission by the OF
    (Etat.BROUILLON, Etat.EN_ATTENTE): {OF},
    (Etat.NON_DIFFUSEE, Etat.EN_ATTENTE): {OF, SYSTEM},
    # a change to something validated goes back to validation (marquer_modifie)
    (Etat.VALIDEE, Etat.EN_ATTENTE): {OF, SYSTEM},
    # complement: asked by staff, answered by the OF ("J'ai effectué les corrections") or cancelled by staff
    (Etat.EN_ATTENTE, Etat.COMPLEMENT): {STAFF},
    (Etat.COMPLEMENT, Etat.EN_ATTENTE): {OF, STAFF},
    # decision of the équipe offre
    (Etat.EN_ATTENTE, Etat.VALIDEE): {STAFF},
    (Etat.EN_ATTENTE, Etat.NON_DIFFUSEE): {STAFF},
    (Etat.VALIDEE, Etat.NON_DIFFUSEE): {STAFF},
    (Etat.COMPLEMENT, Etat.NON_DIFFUSEE): {STAFF},
    # archive by the OF (or staff for it)
    (Etat.BROUILLON, Etat.ARCHIVE_OF): {OF},
    (Etat.EN_ATTENTE, Etat.ARCHIVE_OF): {OF},
    (Etat.VALIDEE, Etat.ARCHIVE_OF): {OF},
    (Etat.NON_DIFFUSEE, Etat.ARCHIVE_OF): {OF},
    (Etat.COMPLEMENT, Etat.ARCHIVE_OF): {OF},
}

EN_COURS = (Etat.BROUILLON, Etat.EN_ATTENTE, Etat.COMPLEMENT)


def peut_passer(etat_actuel: str, etat_cible: str, acteur: str) -> bool:
    """Whether `acteur` ("of", "staff" or "system") may move an object from one state to the other.

    Staff may do what an OF may do (they pass every OF gate).
    """
    autorises = TRANSITIONS.get((etat_actuel, etat_cible), set())
    return acteur in autorises or (acteur == STAFF and OF in autorises)


def acteur_pour(user, organisme_id: int) -> str | None:
    """ "staff", "of" (an active contact with the right "saisir" on that organisme), "system" (no user) or None."""
    if user is None:
        return SYSTEM
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return STAFF
    from ofeli.organismes.models import Contact

    if Contact.objects.filter(
        user=user, organisme_id=organisme_id, actif=True, peut_saisir=True, organisme__actif=True
    ).exists():
        return OF
    return None


def _verifier(obj, cible, acteur):
    if acteur is None:
        raise PermissionDenied("Vous n'avez pas le droit de saisir l'offre de cet organisme.")
    if not peut_passer(obj.etat, cible, acteur):
        raise ValidationError(
            f"Impossible de passer de « {Etat(obj.etat).label} » à « {Etat(cible).label} ».", code="transition"
        )


def _verifier_version(obj, version):
    if version is not None and int(version) != obj.version:
        raise ValidationError(
            "Cet élément a été modifié ou traité entre-temps par quelqu'un d'autre : rechargez la page.",
            code="version",
        )


def _organisme_id(obj) -> int:
    if isinstance(obj, Formation):
        return obj.organisme_id
    if isinstance(obj, Action):
        return obj.formation.organisme_id
    return obj.action.formation.organisme_id


def _objet(obj) -> str:
    return {Formation: "formation", Action: "action", Session: "session"}[type(obj)]


def _journal(obj, avant, apres, acteur, user, message=""):
    formation = (
        obj if isinstance(obj, Formation) else (obj.formation if isinstance(obj, Action) else obj.action.formation)
    )
    Transition.objects.create(
        formation=formation,
        action=obj if isinstance(obj, Action) else (obj.action if isinstance(obj, Session) else None),
        session=obj if isinstance(obj, Session) else None,
        objet=_objet(obj),
        etat_avant=avant,
        etat_apres=apres,
        acteur=acteur,
        user=user,
        message=message or "",
    )


def _passer(obj, cible, *, acteur, user, message="", soumise_at=None, champs=()):
    """Moves one locked object, bumps its version and logs the transition (no rights check here)."""
    avant = obj.etat
    obj.etat = cible
    obj.version = (obj.version or 0) + 1
    fields = ["etat", "version", "updated_at", *champs]
    if soumise_at is not None:
        obj.soumise_at = soumise_at
        fields.append("soumise_at")
    obj.save(update_fields=fields)
    _journal(obj, avant, cible, acteur, user, message)
    return obj


def _lock_formation(formation) -> Formation:
    return Formation.objects.select_for_update().get(pk=getattr(formation, "pk", formation))


def _lock_session(session) -> Session:
    return (
        Session.objects.select_for_update().select_related("action__formation").get(pk=getattr(session, "pk", session))
    )


def _lock_session_formation(session) -> tuple[Session, Formation]:
    """Locks the formation, then the session (always in this order, as formation_valider does)."""
    pk = getattr(session, "pk", session)
    formation_id = Session.objects.filter(pk=pk).values_list("action__formation_id", flat=True).get()
    formation = _lock_formation(formation_id)
    return _lock_session(pk), formation


def _sessions(formation, etats):
    return list(
        Session.objects.select_for_update()
        .filter(action__formation=formation, etat__in=etats)
        .select_related("action__formation")
        .order_by("id")
    )


def _formation_id_de(obj) -> int:
    if isinstance(obj, Formation):
        return obj.pk
    if isinstance(obj, Session):
        return obj.action.formation_id
    return obj.formation_id  # Publication, DemandeComplement


def _transition(fn):
    """One transaction per transition; the formation's search document is updated once, at its end, inside it
    (design note 5), whatever the number of objects the transition moved."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with transaction.atomic():
            result = fn(*args, **kwargs)
            search_index.indexer_formation(_formation_id_de(result))
        return result

    return wrapper


def lien_formation(formation, session=None) -> str:
    """The OF's screen of a formation or a session (ofeli.offre), else the OF's validation follow-up page."""
    try:
        if session is not None:
            return reverse("offre:session_detail", args=[session.pk])
        return reverse("offre:formation_detail", args=[formation.pk])
    except NoReverseMatch:
        return reverse("validation:suivi", args=[formation.pk])


def _notifier(**kwargs):
    from ofeli.messagerie.notifications import notifier

    return notifier(**kwargs)


# --- submission (OF) ----------------------------------------------------------------------------------


@_transition
def formation_soumettre(*, formation: Formation, user) -> Formation:
    """The OF sends a formation and its sessions in draft to the GIP's validation.

    From "Brouillon" or "Non diffusée". From "En attente complément d'information" it is the same as
    ticking "J'ai effectué les corrections". When the formation is already validated or pending,
    only its draft sessions are sent.
    """
    formation = _lock_formation(formation)
    acteur = acteur_pour(user, formation.organisme_id)
    now = timezone.now()
    if formation.etat == Etat.COMPLEMENT:
        demande = DemandeComplement.objects.ouvertes().filter(formation=formation, session__isnull=True).first()
        if demande is not None:
            complement_corrections_effectuees(demande=demande, user=user)
            formation.refresh_from_db()
            return formation
    if formation.etat in (Etat.VALIDEE, Etat.EN_ATTENTE):
        if acteur is None:
            raise PermissionDenied("Vous n'avez pas le droit de saisir l'offre de cet organisme.")
        brouillons = _sessions(formation, [Etat.BROUILLON])
        if not brouillons:
            raise ValidationError(
                f"La formation est déjà « {Etat(formation.etat).label} » : rien à soumettre.", code="transition"
            )
        for session in brouillons:
            _soumettre_session(session, acteur=acteur, user=user, now=now)
        return formation
    _verifier(formation, Etat.EN_ATTENTE, acteur)
    _passer(formation, Etat.EN_ATTENTE, acteur=acteur, user=user, soumise_at=now)
    for action in Action.objects.select_for_update().filter(formation=formation, etat__in=[Etat.BROUILLON]):
        _passer(action, Etat.EN_ATTENTE, acteur=acteur, user=user, soumise_at=now)
    for session in _sessions(formation, [Etat.BROUILLON, Etat.COMPLEMENT, Etat.NON_DIFFUSEE]):
        _soumettre_session(session, acteur=acteur, user=user, now=now)
    return formation


def _soumettre_session(session, *, acteur, user, now):
    if session.etat == Etat.COMPLEMENT:
        DemandeComplement.objects.ouvertes().filter(session=session).update(
            statut=DemandeComplement.Statut.CORRIGEE, traitee_par=user, traitee_at=now
        )
    _passer(session, Etat.EN_ATTENTE, acteur=acteur, user=user, soumise_at=now)
    action = Action.objects.select_for_update().get(pk=session.action_id)
    if action.etat in (Etat.BROUILLON, Etat.NON_DIFFUSEE):
        _passer(action, Etat.EN_ATTENTE, acteur=acteur, user=user, soumise_at=now)


@_transition
def session_soumettre(*, session: Session, user) -> Session:
    """The OF sends one session to validation; a formation still in draft is sent with it."""
    session, formation = _lock_session_formation(session)
    acteur = acteur_pour(user, formation.organisme_id)
    if formation.etat in (Etat.BROUILLON, Etat.NON_DIFFUSEE):
        formation_soumettre(formation=formation, user=user)
        session.refresh_from_db()
        if session.etat == Etat.EN_ATTENTE:
            return session
    if session.etat == Etat.COMPLEMENT:
        demande = DemandeComplement.objects.ouvertes().filter(session=session).first()
        if demande is not None:
            complement_corrections_effectuees(demande=demande, user=user)
            session.refresh_from_db()
            return session
    _verifier(session, Etat.EN_ATTENTE, acteur)
    _soumettre_session(session, acteur=acteur, user=user, now=timezone.now())
    return session


def marquer_modifie(*, obj, user):
    """Called by ofeli.offre.services after any save of a formation, an action or a session.

    A change to something validated (or not diffused) puts it back in validation; the validated
    version (its publication) stays diffused until the new one is validated. A change to an action
    puts its validated sessions back in validation too (the action is published with them); a change
    to a session puts its validated action back too (the session screen edits both). Must be called
    inside the transaction of the save; the caller has already bumped the version.
    """
    if obj.etat not in (Etat.VALIDEE, Etat.NON_DIFFUSEE):
        return obj
    acteur = acteur_pour(user, _organisme_id(obj)) or SYSTEM
    now = timezone.now()
    avant = obj.etat
    obj.etat = Etat.EN_ATTENTE
    obj.soumise_at = now
    obj.save(update_fields=["etat", "soumise_at", "updated_at"])
    _journal(obj, avant, Etat.EN_ATTENTE, acteur, user, "Modification par l'organisme")
    if isinstance(obj, Action):
        for session in Session.objects.select_for_update().filter(action=obj, etat=Etat.VALIDEE):
            _passer(session, Etat.EN_ATTENTE, acteur=acteur, user=user, soumise_at=now, message="Action modifiée")
    if isinstance(obj, Session):
        # The session screen edits the action too: its validated version stays published until validation.
        action = Action.objects.select_for_update().get(pk=obj.action_id)
        if action.etat == Etat.VALIDEE:
            action.etat = Etat.EN_ATTENTE
            action.soumise_at = now
            action.save(update_fields=["etat", "soumise_at", "updated_at"])
            _journal(action, Etat.VALIDEE, Etat.EN_ATTENTE, acteur, user, "Modification par l'organisme")
    return obj


# --- validation (staff) -------------------------------------------------------------------------------


def _publier(formation: Formation, *, user, raison=Publication.Fermeture.REMPLACEE) -> Publication | None:
    """Closes the current publication and opens a new one from the validated working copy.

    Returns None (and only closes) when nothing of the formation is validated any more.
    """
    now = timezone.now()
    precedente = Publication.objects.select_for_update().filter(formation=formation, closed_at__isnull=True).first()
    data = snapshot.instantane(
        formation=snapshot.charger(formation.pk),
        precedente=precedente.data if precedente else None,
        retenir=lambda obj: obj.etat == Etat.VALIDEE,
    )
    if precedente is not None:
        precedente.closed_at = now
        precedente.closed_reason = raison
        precedente.save(update_fields=["closed_at", "closed_reason"])
    dernier = Publication.objects.filter(formation=formation).order_by("-numero").values_list("numero", flat=True)
    publication = Publication.objects.create(
        formation=formation,
        organisme_id=formation.organisme_id,
        fonds_publics=snapshot.est_fonds_publics(data),
        numero=(dernier.first() or 0) + 1,
        data=data,
        validated_by=user,
        validated_at=now,
    )
    _apres_publication(publication)
    return publication


def _apres_publication(publication):
    """What readers of the validated offer need, computed while the working copy equals what was validated."""
    from ofeli.diffusion.feeds import publication_lheo_preparer
    from ofeli.public.index import publication_indexer

    publication_lheo_preparer(publication)
    publication_indexer(publication)


def _fermer_publication(formation, raison):
    from ofeli.public.index import publication_desindexer

    Publication.objects.select_for_update().filter(formation=formation, closed_at__isnull=True).update(
        closed_at=timezone.now(), closed_reason=raison
    )
    publication_desindexer(formation.pk)


def _valider_objet(obj, *, user, message=""):
    if not obj.numero:
        obj.numero = numeros.numero_suivant(_objet(obj))
        _passer(obj, Etat.VALIDEE, acteur=STAFF, user=user, message=message, champs=["numero"])
    else:
        _passer(obj, Etat.VALIDEE, acteur=STAFF, user=user, message=message)


def _exiger_staff(user):
    if user is None or not user.is_authenticated or not user.is_staff:
        raise PermissionDenied("Réservé à l'équipe offre.")


@_transition
def formation_valider(*, formation: Formation, user, version: int | None = None, message: str = "") -> Publication:
    """Staff validate a pending formation with its pending actions and sessions, and publish it."""
    _exiger_staff(user)
    formation = _lock_formation(formation)
    _verifier_version(formation, version)
    _verifier(formation, Etat.VALIDEE, STAFF)
    _valider_objet(formation, user=user, message=message)
    sessions = _sessions(formation, [Etat.EN_ATTENTE])
    actions = {s.action_id for s in sessions}
    for action in Action.objects.select_for_update().filter(formation=formation).order_by("id"):
        if action.etat in (Etat.EN_ATTENTE, Etat.BROUILLON, Etat.COMPLEMENT) and (
            action.pk in actions or action.etat == Etat.EN_ATTENTE
        ):
            _valider_objet(action, user=user)
    for session in sessions:
        _valider_objet(session, user=user)
    # A request about the formation is settled by its validation; one about a session still in complement is not.
    DemandeComplement.objects.ouvertes().filter(formation=formation, session__isnull=True).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    publication = _publier(formation, user=user)
    _notifier(
        organisme=formation.organisme,
        type="validation",
        sujet=f"Formation validée : {formation.intitule}",
        texte=(
            f"L'équipe offre a validé la formation « {formation.intitule} » (n° {formation.numero}) : "
            "elle est diffusée."
        ),
        lien=lien_formation(formation),
        formation=formation,
    )
    return publication


@_transition
def session_valider(*, session: Session, user, version: int | None = None, message: str = "") -> Publication:
    """Staff validate one pending session (and its action) of a formation already validated once."""
    _exiger_staff(user)
    session, formation = _lock_session_formation(session)
    _verifier_version(session, version)
    _verifier(session, Etat.VALIDEE, STAFF)
    if formation.etat != Etat.VALIDEE and not Publication.objects.courantes().filter(formation=formation).exists():
        raise ValidationError(
            "La formation de cette session n'a pas encore été validée : validez la formation.", code="transition"
        )
    action = Action.objects.select_for_update().get(pk=session.action_id)
    if action.etat in (Etat.EN_ATTENTE, Etat.BROUILLON, Etat.COMPLEMENT, Etat.NON_DIFFUSEE):
        _valider_objet(action, user=user)
    _valider_objet(session, user=user, message=message)
    DemandeComplement.objects.ouvertes().filter(session=session).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    publication = _publier(formation, user=user)
    _notifier(
        organisme=formation.organisme,
        type="validation",
        sujet=f"Session validée : {session.numero} — {formation.intitule}",
        texte=f"L'équipe offre a validé la session n° {session.numero} de la formation « {formation.intitule} ».",
        lien=lien_formation(formation, session),
        formation=formation,
        session=session,
    )
    return publication


# --- complement -----------------------------------------------------------------------------------------


def _message_texte(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": "Écrivez le message à l'organisme : ce qu'il doit compléter ou corriger."})
    if len(message) > 5000:
        raise ValidationError({"message": "Le message ne doit pas dépasser 5000 caractères."})
    return message


def _demande_creer(*, formation, session, user, message) -> DemandeComplement:
    lien = lien_formation(formation, session)
    demande = DemandeComplement.objects.create(
        formation=formation,
        session=session,
        organisme_id=formation.organisme_id,
        message=message,
        lien=lien,
        demandee_par=user,
    )
    from ofeli.messagerie.services import fil_pour_objet, message_envoyer

    fil = fil_pour_objet(organisme=formation.organisme, formation=formation, session=session)
    message_envoyer(fil=fil, auteur=user, texte=message, lien=lien)
    cible = f"la session n° {session.numero or session.debut.strftime('%d/%m/%Y')}" if session else "la formation"
    _notifier(
        organisme=formation.organisme,
        type="complement",
        sujet=f"Complément d'information demandé : {formation.intitule}",
        texte=(
            f"L'équipe offre demande un complément d'information sur {cible} « {formation.intitule} » :"
            f"\n\n{message}\n\n"
            "Une fois les corrections faites, cochez « J'ai effectué les corrections »."
        ),
        lien=reverse("validation:suivi", args=[formation.pk]),
        formation=formation,
        session=session,
    )
    return demande


@_transition
def formation_demander_complement(
    *, formation: Formation, user, message: str, version: int | None = None
) -> DemandeComplement:
    """Staff ask the OF for more information: the formation (and its pending sessions) go back to the OF."""
    _exiger_staff(user)
    message = _message_texte(message)
    formation = _lock_formation(formation)
    _verifier_version(formation, version)
    _verifier(formation, Etat.COMPLEMENT, STAFF)
    _passer(formation, Etat.COMPLEMENT, acteur=STAFF, user=user, message=message)
    for session in _sessions(formation, [Etat.EN_ATTENTE]):
        _passer(session, Etat.COMPLEMENT, acteur=STAFF, user=user, message=message)
    return _demande_creer(formation=formation, session=None, user=user, message=message)


@_transition
def session_demander_complement(
    *, session: Session, user, message: str, version: int | None = None
) -> DemandeComplement:
    _exiger_staff(user)
    message = _message_texte(message)
    session, formation = _lock_session_formation(session)
    _verifier_version(session, version)
    _verifier(session, Etat.COMPLEMENT, STAFF)
    _passer(session, Etat.COMPLEMENT, acteur=STAFF, user=user, message=message)
    return _demande_creer(formation=formation, session=session, user=user, message=message)


def _demande_lock(demande) -> DemandeComplement:
    return DemandeComplement.objects.select_for_update().get(pk=getattr(demande, "pk", demande))


def _complement_rouvrir(demande, *, acteur, user, message, nouvelle_soumission):
    """Moves the object of a request (and, for a formation, its sessions in complement) back to validation."""
    now = timezone.now()
    soumise_at = now if nouvelle_soumission else None
    if demande.session_id:
        session = _lock_session(demande.session_id)
        _verifier(session, Etat.EN_ATTENTE, acteur)
        _passer(session, Etat.EN_ATTENTE, acteur=acteur, user=user, message=message, soumise_at=soumise_at)
        return
    formation = _lock_formation(demande.formation_id)
    _verifier(formation, Etat.EN_ATTENTE, acteur)
    _passer(formation, Etat.EN_ATTENTE, acteur=acteur, user=user, message=message, soumise_at=soumise_at)
    for session in _sessions(formation, [Etat.COMPLEMENT]):
        if not DemandeComplement.objects.ouvertes().filter(session=session).exclude(pk=demande.pk).exists():
            _passer(session, Etat.EN_ATTENTE, acteur=acteur, user=user, message=message, soumise_at=soumise_at)


@_transition
def complement_corrections_effectuees(*, demande: DemandeComplement, user, message: str = "") -> DemandeComplement:
    """The OF ticks "J'ai effectué les corrections": the item goes back to the GIP's validation."""
    formation = _lock_formation(demande.formation_id)
    demande = _demande_lock(demande)
    acteur = acteur_pour(user, formation.organisme_id)
    if acteur is None:
        raise PermissionDenied("Vous n'avez pas le droit de saisir l'offre de cet organisme.")
    if demande.statut != DemandeComplement.Statut.OUVERTE:
        raise ValidationError(
            f"Cette demande n'est plus en attente ({demande.get_statut_display().lower()}).", code="transition"
        )
    _complement_rouvrir(
        demande, acteur=acteur, user=user, message=message or "Corrections effectuées", nouvelle_soumission=True
    )
    demande.statut = DemandeComplement.Statut.CORRIGEE
    demande.traitee_par = user
    demande.traitee_at = timezone.now()
    demande.save(update_fields=["statut", "traitee_par", "traitee_at"])
    return demande


@_transition
def complement_annuler(*, demande: DemandeComplement, user, version: int | None = None) -> DemandeComplement:
    """Staff cancel a request for complement: the item is back in the queue; the request and its message stay."""
    _exiger_staff(user)
    formation = _lock_formation(demande.formation_id)
    demande = _demande_lock(demande)
    if demande.statut != DemandeComplement.Statut.OUVERTE:
        raise ValidationError(
            f"Cette demande n'est plus en attente ({demande.get_statut_display().lower()}).", code="transition"
        )
    cible = Session.objects.get(pk=demande.session_id) if demande.session_id else formation
    _verifier_version(cible, version)
    _complement_rouvrir(
        demande, acteur=STAFF, user=user, message="Demande de complément annulée", nouvelle_soumission=False
    )
    demande.statut = DemandeComplement.Statut.ANNULEE
    demande.traitee_par = user
    demande.traitee_at = timezone.now()
    demande.save(update_fields=["statut", "traitee_par", "traitee_at"])
    _notifier(
        organisme=formation.organisme,
        type="complement_annule",
        sujet=f"Demande de complément annulée : {formation.intitule}",
        texte="L'équipe offre a annulé sa demande de complément d'information : vous n'avez rien à corriger.",
        lien=reverse("validation:suivi", args=[formation.pk]),
        formation=formation,
        session=demande.session,
    )
    return demande


# --- refusal and archive --------------------------------------------------------------------------------


def _motif(motif: str) -> str:
    motif = (motif or "").strip()
    if not motif:
        raise ValidationError({"motif": "Indiquez le motif du refus : il est transmis à l'organisme."})
    return motif


@_transition
def formation_refuser(*, formation: Formation, user, motif: str, version: int | None = None) -> Formation:
    """Staff refuse a formation ("Non diffusée", with a reason): it and its sessions leave the diffusion."""
    _exiger_staff(user)
    motif = _motif(motif)
    formation = _lock_formation(formation)
    _verifier_version(formation, version)
    _verifier(formation, Etat.NON_DIFFUSEE, STAFF)
    _passer(formation, Etat.NON_DIFFUSEE, acteur=STAFF, user=user, message=motif)
    for session in _sessions(formation, [Etat.EN_ATTENTE, Etat.VALIDEE, Etat.COMPLEMENT]):
        _passer(session, Etat.NON_DIFFUSEE, acteur=STAFF, user=user, message=motif)
    DemandeComplement.objects.ouvertes().filter(formation=formation).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    _fermer_publication(formation, Publication.Fermeture.NON_DIFFUSEE)
    _notifier(
        organisme=formation.organisme,
        type="refus",
        sujet=f"Formation non diffusée : {formation.intitule}",
        texte=f"L'équipe offre ne diffuse pas la formation « {formation.intitule} ». Motif :\n\n{motif}",
        lien=lien_formation(formation),
        formation=formation,
    )
    return formation


@_transition
def session_refuser(*, session: Session, user, motif: str, version: int | None = None) -> Session:
    """Staff refuse one session: it is not diffused; the formation's publication is redone without it."""
    _exiger_staff(user)
    motif = _motif(motif)
    session, formation = _lock_session_formation(session)
    _verifier_version(session, version)
    _verifier(session, Etat.NON_DIFFUSEE, STAFF)
    _passer(session, Etat.NON_DIFFUSEE, acteur=STAFF, user=user, message=motif)
    DemandeComplement.objects.ouvertes().filter(session=session).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    _retirer_session_publiee(formation, session, user=user)
    _notifier(
        organisme=formation.organisme,
        type="refus",
        sujet=f"Session non diffusée : {formation.intitule}",
        texte=(
            f"L'équipe offre ne diffuse pas la session du {session.debut:%d/%m/%Y} de la formation "
            f"« {formation.intitule} ». Motif :\n\n{motif}"
        ),
        lien=lien_formation(formation),
        formation=formation,
        session=session,
    )
    return session


def _retirer_session_publiee(formation, session, *, user):
    courante = Publication.objects.courantes().filter(formation=formation).first()
    if courante is not None and any(s["id"] == session.pk for s in courante.sessions):
        _publier(formation, user=user)


@_transition
def formation_archiver(*, formation: Formation, user) -> Formation:
    """The OF archives a formation ("Archive OF") with its sessions; its publication is closed."""
    formation = _lock_formation(formation)
    acteur = acteur_pour(user, formation.organisme_id)
    _verifier(formation, Etat.ARCHIVE_OF, acteur)
    _passer(formation, Etat.ARCHIVE_OF, acteur=acteur, user=user)
    for session in _sessions(formation, [e for e in Etat.values if e != Etat.ARCHIVE_OF]):
        _passer(session, Etat.ARCHIVE_OF, acteur=acteur, user=user)
    DemandeComplement.objects.ouvertes().filter(formation=formation).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    _fermer_publication(formation, Publication.Fermeture.ARCHIVEE)
    return formation


@_transition
def session_archiver(*, session: Session, user) -> Session:
    """The OF archives one session; if it was diffused, the formation is republished without it."""
    session, formation = _lock_session_formation(session)
    acteur = acteur_pour(user, formation.organisme_id)
    _verifier(session, Etat.ARCHIVE_OF, acteur)
    _passer(session, Etat.ARCHIVE_OF, acteur=acteur, user=user)
    DemandeComplement.objects.ouvertes().filter(session=session).update(
        statut=DemandeComplement.Statut.ANNULEE, traitee_par=user, traitee_at=timezone.now()
    )
    _retirer_session_publiee(formation, session, user=None)
    return session
