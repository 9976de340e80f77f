"""Writes of the offer: one named function per write, keyword-only, one transaction each.

Views, imports and bulk edits call these functions, never the models directly. Each function
checks the guide's rules (ofeli.offre.rules) and raises django ValidationError with a dict of
French messages keyed by field when one fails: nothing is written then. Each save of a formation
or a session calls ofeli.validation.workflow.marquer_modifie (a change to something validated
goes back to validation) and reindexes the formation for search, inside the transaction.

Concurrent edits: `formation_modifier` and `session_modifier` take the `version` the user
loaded; if someone saved in between they raise ConflitDeVersion carrying the current object.
"""

import contextvars
import datetime
import functools

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F

from ofeli.recherche import index as search_index
from ofeli.validation import workflow

from . import rules
from .models import Action, Etat, Formation, PieceJointe, Session, SessionContact, Source
from .pieces import nom_de_stockage, verifier_fichier

FORMATION_CHAMPS = [
    "intitule",
    "objectif",
    "resultats_attendus",
    "contenu",
    "certifiante",
    "parcours",
    "niveau_entree",
    "niveau_sortie",
    "objectif_general",
    "url",
]
FORMATION_M2M = ["certifications", "formacodes", "nsf", "romes", "contacts"]

ACTION_CHAMPS = [
    "dispositif",
    "numero_marche",
    "rythme",
    "public_vise",
    "info_public_vise",
    "niveau_entree_obligatoire",
    "modalites_alternance",
    "modalites_enseignement",
    "conditions_specifiques",
    "prise_en_charge_frais_possible",
    "entree_sortie_permanente",
    "organisme_formateur",
    "prix_total_ttc",
    "prix_horaire_ttc",
    "detail_conditions_prise_en_charge",
    "duree_indicative",
    "nombre_heures_centre",
    "nombre_heures_entreprise",
    "nombre_heures_total",
    "modalites_recrutement",
    "modalites_pedagogiques",
    "acces_handicapes",
]
ACTION_M2M = ["lieux"]
SESSION_CHAMPS = [
    "debut",
    "fin",
    "inscription_debut",
    "inscription_fin",
    "etat_recrutement",
    "places_restantes",
    "places_date",
    "adresse_inscription",
    "modalites_inscription",
    "url",
]
SESSION_M2M = ["blocs"]
SESSION_CONTACTS = {
    "contacts_information": SessionContact.Role.INFORMATION,
    "contacts_inscription": SessionContact.Role.INSCRIPTION,
}
# Every key a session's data may carry (action and session folded together, as on the screen).
SESSION_DONNEES = ACTION_CHAMPS + ACTION_M2M + SESSION_CHAMPS + SESSION_M2M + list(SESSION_CONTACTS)


class ConflitDeVersion(Exception):
    """Someone else saved the object since the user loaded it; `actuel` is what is saved now."""

    def __init__(self, actuel):
        super().__init__("L'objet a été modifié entre-temps.")
        self.actuel = actuel


# Files written by the write in progress: deleted again if it fails, so a failed save leaves nothing.
_FICHIERS_ECRITS: contextvars.ContextVar[list | None] = contextvars.ContextVar("ofeli_fichiers_ecrits", default=None)


def ecriture(fonction):
    """transaction.atomic, plus: the files stored by a failed write are removed from storage."""

    @functools.wraps(fonction)
    def wrapper(*args, **kwargs):
        if _FICHIERS_ECRITS.get() is not None:  # nested write: the outer one cleans up
            with transaction.atomic():
                return fonction(*args, **kwargs)
        jeton = _FICHIERS_ECRITS.set([])
        try:
            with transaction.atomic():
                return fonction(*args, **kwargs)
        except BaseException:
            for nom in _FICHIERS_ECRITS.get():
                default_storage.delete(nom)
            raise
        finally:
            _FICHIERS_ECRITS.reset(jeton)

    return wrapper


def _lever(erreurs: rules.Erreurs):
    if erreurs:
        raise ValidationError(erreurs)


def _reindexer(formation_id: int):
    """Keeps the search document of the formation in step with the write (design note 5)."""
    search_index.indexer_formation(formation_id)


def _verrouiller(model, obj, version):
    """Optimistic lock: +1 on the version only if it is still the one the user loaded."""
    if version is None:
        version = obj.version
    if not model.objects.filter(pk=obj.pk, version=version).update(version=F("version") + 1):
        raise ConflitDeVersion(model.objects.get(pk=obj.pk))
    obj.version = version + 1


# --- Pièces jointes ---------------------------------------------------------------------------


def piece_jointe_ajouter(
    *, organisme, user, fichier, nature, formation=None, session=None, commune_lieu=None
) -> PieceJointe:
    """Checks the file by its content and stores it privately. Call inside the caller's transaction."""
    try:
        content_type = verifier_fichier(fichier)
    except ValidationError as exc:
        champ = "agrement" if nature == PieceJointe.Nature.AGREMENT_CERTIFICATION else "convention"
        raise ValidationError({champ: exc.messages}) from None
    piece = PieceJointe(
        organisme=organisme,
        formation=formation,
        session=session,
        nature=nature,
        nom_original=(fichier.name or "fichier")[:255],
        content_type=content_type,
        taille=fichier.size,
        uploaded_by=user,
        commune_lieu=commune_lieu,
    )
    piece.fichier.save(nom_de_stockage(content_type), fichier, save=False)
    en_cours = _FICHIERS_ECRITS.get()
    if en_cours is not None:
        en_cours.append(piece.fichier.name)
    piece.save()
    return piece


def _supprimer_fichiers(noms: list[str]):
    def _delete():
        for nom in noms:
            if not PieceJointe.objects.filter(fichier=nom).exists():
                default_storage.delete(nom)

    transaction.on_commit(_delete)


# --- Formation --------------------------------------------------------------------------------


def verifier_formation(*, donnees: dict, a_un_agrement: bool) -> rules.Erreurs:
    return rules.fusionner(
        rules.regle_certifiante(donnees.get("certifiante", False), donnees.get("certifications") or []),
        rules.regle_certifiante_agrement(donnees.get("certifiante", False), a_un_agrement),
    )


def _appliquer(obj, donnees: dict, champs: list[str]):
    for champ in champs:
        if champ in donnees:
            setattr(obj, champ, donnees[champ])


def _appliquer_m2m(obj, donnees: dict, champs: list[str], *, nouveau: bool = False):
    for champ in champs:
        if champ in donnees:
            if nouveau and not donnees[champ]:
                continue  # a new object has no links yet: nothing to clear (one query saved per field)
            getattr(obj, champ).set(donnees[champ] or [])


@ecriture
def formation_creer(*, organisme, user, donnees: dict, agrement=None) -> Formation:
    """A new formation of the OF's own offer, in brouillon: a "demande" until first submitted.

    `agrement`: an uploaded file, the certifying body's agreement (required when certifiante).
    """
    _lever(rules.regle_source_formation(Source.OF))
    _lever(verifier_formation(donnees=donnees, a_un_agrement=agrement is not None))
    formation = Formation(organisme=organisme, source=Source.OF, etat=Etat.BROUILLON, created_by=user)
    _appliquer(formation, donnees, FORMATION_CHAMPS)
    formation.full_clean(exclude=["organisme", "created_by"])
    formation.save()
    _appliquer_m2m(formation, donnees, FORMATION_M2M, nouveau=True)
    if agrement is not None:
        piece_jointe_ajouter(
            organisme=organisme,
            user=user,
            fichier=agrement,
            nature=PieceJointe.Nature.AGREMENT_CERTIFICATION,
            formation=formation,
        )
    _reindexer(formation.pk)
    return formation


@ecriture
def formation_modifier(*, formation: Formation, user, donnees: dict, version: int | None, agrement=None) -> Formation:
    """Saves the OF's changes; refused for a source the OF may not change, or if someone saved in between."""
    formation = Formation.objects.select_for_update().get(pk=formation.pk)
    _lever(rules.regle_source_formation(formation.source))
    a_un_agrement = (
        agrement is not None
        or formation.pieces_jointes.filter(nature=PieceJointe.Nature.AGREMENT_CERTIFICATION).exists()
    )
    _lever(verifier_formation(donnees=donnees, a_un_agrement=a_un_agrement))
    _verrouiller(Formation, formation, version)
    _appliquer(formation, donnees, FORMATION_CHAMPS)
    formation.full_clean(exclude=["organisme", "created_by"])
    formation.save()
    _appliquer_m2m(formation, donnees, FORMATION_M2M)
    if agrement is not None:
        piece_jointe_ajouter(
            organisme=formation.organisme,
            user=user,
            fichier=agrement,
            nature=PieceJointe.Nature.AGREMENT_CERTIFICATION,
            formation=formation,
        )
    workflow.marquer_modifie(obj=formation, user=user)
    _reindexer(formation.pk)
    return formation


def peut_supprimer_demande(formation: Formation) -> bool:
    """A formation never submitted (brouillon, no soumise_at) is a demande the OF may abandon."""
    return formation.etat == Etat.BROUILLON and formation.soumise_at is None and formation.source == Source.OF


@ecriture
def formation_supprimer_demande(*, formation: Formation, user) -> None:
    """ "Supprimer ma demande": deletes a formation never submitted, with its actions, sessions and files."""
    formation = Formation.objects.select_for_update().get(pk=formation.pk)
    if not peut_supprimer_demande(formation):
        raise ValidationError(
            "Seule une formation jamais soumise à validation peut être supprimée : celle-ci a déjà été soumise "
            "à l'équipe offre.",
            code="deja_soumise",
        )
    fichiers = list(PieceJointe.objects.filter(formation=formation).values_list("fichier", flat=True)) + list(
        PieceJointe.objects.filter(session__action__formation=formation).values_list("fichier", flat=True)
    )
    formation_id = formation.pk
    formation.delete()
    _supprimer_fichiers(fichiers)
    _reindexer(formation_id)


# --- Session (with its action folded in) -----------------------------------------------------


def conventions_de(session: Session | None, formation: Formation, nouvelle=None) -> list:
    pieces = list(formation.pieces_jointes.filter(nature=PieceJointe.Nature.CONVENTION_FORMATION))
    if session is not None and session.pk:
        pieces += list(session.pieces_jointes.filter(nature=PieceJointe.Nature.CONVENTION_FORMATION))
    if nouvelle is not None:
        pieces.append(nouvelle)
    return pieces


def verifier_session(*, formation: Formation, donnees: dict, conventions=()) -> rules.Erreurs:
    """Every rule of the guide on a session (its action folded in)."""
    debut, fin = donnees.get("debut"), donnees.get("fin")
    return rules.fusionner(
        rules.regle_source_session(formation.source),
        rules.regle_dates(debut, fin),
        rules.regle_entree_sortie_permanente(donnees.get("entree_sortie_permanente", False), debut, fin),
        rules.regle_periode_inscription(donnees.get("inscription_debut"), donnees.get("inscription_fin")),
        rules.regle_places(donnees.get("places_restantes"), donnees.get("places_date")),
        rules.regle_a_distance(donnees.get("modalites_enseignement"), formation.organisme),
        rules.regle_hors_region(donnees.get("lieux") or [], conventions),
        rules.regle_blocs(donnees.get("blocs") or [], formation.certifications.all()),
    )


class ConventionCandidate:
    """What the rule needs of a convention being uploaded with the form (not saved yet)."""

    nature = PieceJointe.Nature.CONVENTION_FORMATION

    def __init__(self, commune_lieu):
        self.commune_lieu = commune_lieu


def _enregistrer_contacts(session: Session, donnees: dict, *, nouvelle: bool = False):
    for champ, role in SESSION_CONTACTS.items():
        if champ not in donnees:
            continue
        wanted = list(donnees[champ] or [])
        if not nouvelle:  # a new session has no contact to remove
            SessionContact.objects.filter(session=session, role=role).exclude(contact__in=wanted).delete()
        for contact in wanted:
            SessionContact.objects.get_or_create(session=session, contact=contact, role=role)


def _joindre_convention(*, formation, session, user, convention, commune_lieu):
    if convention is not None:
        piece_jointe_ajouter(
            organisme=formation.organisme,
            user=user,
            fichier=convention,
            nature=PieceJointe.Nature.CONVENTION_FORMATION,
            session=session,
            commune_lieu=commune_lieu,
        )


@ecriture
def session_creer(
    *, formation: Formation, user, donnees: dict, convention=None, commune_convention=None, pieces_copiees=()
) -> Session:
    """A new session of a formation, with its own action (the screen folds the action into the session).

    `convention` (uploaded file) and `commune_convention` (Commune): a convention de formation naming a
    place in the region, for a session whose lieux are all outside it. `pieces_copiees`: attachments of
    another session (duplication, rollover) attached to the new one too; its conventions count for the rules.
    """
    formation = Formation.objects.select_for_update().get(pk=formation.pk)
    candidate = ConventionCandidate(commune_convention) if convention is not None else None
    conventions = conventions_de(None, formation, candidate) + [
        p for p in pieces_copiees if p.nature == PieceJointe.Nature.CONVENTION_FORMATION
    ]
    _lever(verifier_session(formation=formation, donnees=donnees, conventions=conventions))
    action = Action(formation=formation, etat=Etat.BROUILLON, created_by=user)
    _appliquer(action, donnees, ACTION_CHAMPS)
    action.full_clean(exclude=["formation", "created_by", "organisme_formateur"])
    action.save()
    _appliquer_m2m(action, donnees, ACTION_M2M, nouveau=True)
    session = Session(action=action, etat=Etat.BROUILLON, created_by=user)
    _appliquer(session, donnees, SESSION_CHAMPS)
    session.full_clean(exclude=["action", "created_by", "adresse_inscription"])
    session.save()
    _appliquer_m2m(session, donnees, SESSION_M2M, nouveau=True)
    _enregistrer_contacts(session, donnees, nouvelle=True)
    _joindre_convention(
        formation=formation, session=session, user=user, convention=convention, commune_lieu=commune_convention
    )
    for piece in pieces_copiees:
        _copier_piece(piece, session=session, user=user)
    _reindexer(formation.pk)
    return session


def _copier_piece(piece: PieceJointe, *, session: Session, user) -> PieceJointe:
    """Attaches another session's attachment to `session` (the stored file is shared, not copied)."""
    return PieceJointe.objects.create(
        organisme=piece.organisme,
        session=session,
        nature=piece.nature,
        fichier=piece.fichier.name,
        nom_original=piece.nom_original,
        content_type=piece.content_type,
        taille=piece.taille,
        uploaded_by=user,
        commune_lieu=piece.commune_lieu,
    )


@ecriture
def session_modifier(
    *, session: Session, user, donnees: dict, version: int | None, convention=None, commune_convention=None
) -> Session:
    session = Session.objects.select_for_update().select_related("action__formation__organisme").get(pk=session.pk)
    action = session.action
    formation = action.formation
    candidate = ConventionCandidate(commune_convention) if convention is not None else None
    _lever(
        verifier_session(
            formation=formation, donnees=donnees, conventions=conventions_de(session, formation, candidate)
        )
    )
    _verrouiller(Session, session, version)
    _appliquer(action, donnees, ACTION_CHAMPS)
    action.full_clean(exclude=["formation", "created_by", "organisme_formateur"])
    action.version += 1
    action.save()
    _appliquer_m2m(action, donnees, ACTION_M2M)
    _appliquer(session, donnees, SESSION_CHAMPS)
    session.full_clean(exclude=["action", "created_by", "adresse_inscription"])
    session.save()
    _appliquer_m2m(session, donnees, SESSION_M2M)
    _enregistrer_contacts(session, donnees)
    _joindre_convention(
        formation=formation, session=session, user=user, convention=convention, commune_lieu=commune_convention
    )
    workflow.marquer_modifie(obj=session, user=user)
    _reindexer(formation.pk)
    return session


def donnees_de_session(session: Session) -> dict:
    """A session's data as the services take it (action fields, lieux, contacts, blocs included)."""
    action = session.action
    donnees = {champ: getattr(action, champ) for champ in ACTION_CHAMPS}
    donnees["lieux"] = list(action.lieux.all())
    donnees.update({champ: getattr(session, champ) for champ in SESSION_CHAMPS})
    donnees["blocs"] = list(session.blocs.all())
    for champ, role in SESSION_CONTACTS.items():
        donnees[champ] = [sc.contact for sc in session.session_contacts.filter(role=role).select_related("contact")]
    return donnees


@ecriture
def session_dupliquer(*, session: Session, user, debut: datetime.date, fin: datetime.date) -> Session:
    """ "Dupliquer": a new session (with its own action) copying everything but the dates, which the user gives.

    The inscription period (dates too) is not copied; places, contacts, lieux and blocs are, and the
    screen reminds the user to check them. Conventions attached to the session are attached to the copy.
    """
    session = Session.objects.select_related("action__formation").get(pk=session.pk)
    formation = session.action.formation
    donnees = donnees_de_session(session)
    donnees.update(debut=debut, fin=fin, inscription_debut=None, inscription_fin=None)
    _lever(verifier_session(formation=formation, donnees=donnees, conventions=conventions_de(session, formation)))
    return session_creer(
        formation=formation, user=user, donnees=donnees, pieces_copiees=list(session.pieces_jointes.all())
    )
