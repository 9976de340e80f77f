"""Writes and reads of the messagerie (one named function per write, keyword-only, one transaction).

Who is notified of a new message:
- written by the équipe offre: every active contact of the organisme gets an in-app notice, and
  an e-mail unless they switched off the type "nouveau_message" (ofeli.messagerie.notifications);
- written by an OF contact: one e-mail to the GIP's shared address (current_region().gip.email),
  the team's mailbox that every member of the équipe offre already reads; in the app, each staff
  user sees the message as unread (per user) in the messagerie and its badge. Sending one e-mail
  per staff user would duplicate what the shared mailbox does.

Unread messages are counted per user: a message is unread for a user when it was written by the
other side (équipe offre for a contact, an OF for staff) and is newer than the last message the
user saw in that thread (LectureFil).
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from ofeli.core.emails import send_templated_email
from ofeli.core.region import current_region
from ofeli.organismes.models import Contact, Organisme

from .fichiers import verifier_pieces
from .models import Fil, LectureFil, Message, Notification, PieceJointeMessage, TypeNotification

TEXTE_MAX = 5000
SUJET_MAX = 200


# --- helpers ---------------------------------------------------------------------------------


def lien_est_local(lien: str) -> bool:
    """A link carried by a message or a notice must be a path inside OFeli (no other site)."""
    return bool(lien) and lien.startswith("/") and not lien.startswith("//") and "\\" not in lien and " " not in lien


def _verifier_lien(lien: str | None) -> str:
    lien = (lien or "").strip()
    if lien and not lien_est_local(lien):
        raise ValidationError({"lien": "Le lien doit être une adresse dans OFeli, commençant par « / »."})
    return lien


def peut_ecrire(user, organisme_id: int) -> bool:
    """Staff write to any organisme; a contact to its own organisme when the contact is active."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    return Contact.objects.filter(user=user, organisme_id=organisme_id, actif=True, organisme__actif=True).exists()


def sujet_pour_objet(*, formation=None, session=None) -> str:
    if session is not None:
        numero = f"n° {session.numero}" if session.numero else f"du {session.debut:%d/%m/%Y}"
        return f"Session {numero} — {session.action.formation.intitule}"[:SUJET_MAX]
    if formation is not None:
        return f"Formation « {formation.intitule} »"[:SUJET_MAX]
    return "Échanges avec l'équipe offre"


def _objet(*, organisme, formation, session):
    if session is not None:
        formation = session.action.formation
    if formation is not None and formation.organisme_id != organisme.pk:
        raise ValidationError({"formation": "Cette formation n'appartient pas à cet organisme."})
    return formation, session


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def fil_pour_objet(*, organisme, formation=None, session=None) -> Fil:
    """The thread about this object (the organisme itself, a formation or a session), created if none.

    With a session, the formation is the session's. When several threads exist about the object,
    the most recently active one is returned.
    """
    formation, session = _objet(organisme=organisme, formation=formation, session=session)
    # Serialise concurrent get-or-create on the same organisme.
    Organisme.objects.select_for_update().filter(pk=organisme.pk).exists()
    fil = (
        Fil.objects.filter(organisme=organisme, formation=formation, session=session)
        .order_by(F("dernier_message_at").desc(nulls_last=True), "-id")
        .first()
    )
    if fil is None:
        fil = Fil.objects.create(
            organisme=organisme,
            formation=formation,
            session=session,
            sujet=sujet_pour_objet(formation=formation, session=session),
        )
    return fil


@transaction.atomic
def fil_creer(*, organisme, auteur, sujet, texte, formation=None, session=None, lien=None, pieces=()) -> Fil:
    """A new thread with its first message (the "Nouveau message" screen)."""
    if not peut_ecrire(auteur, organisme.pk):
        raise PermissionDenied
    formation, session = _objet(organisme=organisme, formation=formation, session=session)
    sujet = " ".join((sujet or "").split())
    if not sujet:
        raise ValidationError({"sujet": "Indiquez le sujet du message."})
    if len(sujet) > SUJET_MAX:
        raise ValidationError({"sujet": f"Le sujet ne doit pas dépasser {SUJET_MAX} caractères."})
    fil = Fil.objects.create(organisme=organisme, formation=formation, session=session, sujet=sujet, created_by=auteur)
    message_envoyer(fil=fil, auteur=auteur, texte=texte, lien=lien, pieces=pieces)
    return fil


@transaction.atomic
def message_envoyer(*, fil, auteur, texte, lien=None, pieces=(), notifier_destinataires=True) -> Message:
    """Posts a message in a thread and notifies the other side (on commit for e-mails).

    `lien` is a path inside OFeli shown as a button under the message (e.g. the field to fix);
    `pieces` are uploaded files (PDF or images, checked by content and size).
    `notifier_destinataires=False` posts without notifying, for a caller that sends its own notice
    about the same event (say a request for complement) and does not want two e-mails.
    Raises ValidationError (French messages keyed by field) or PermissionDenied.
    """
    if not peut_ecrire(auteur, fil.organisme_id):
        raise PermissionDenied
    texte = (texte or "").strip()
    erreurs = {}
    if not texte:
        erreurs["texte"] = "Écrivez votre message."
    elif len(texte) > TEXTE_MAX:
        erreurs["texte"] = f"Le message ne doit pas dépasser {TEXTE_MAX} caractères."
    try:
        lien = _verifier_lien(lien)
    except ValidationError as exc:
        erreurs.update(exc.message_dict)
    try:
        verifies = verifier_pieces(pieces)
    except ValidationError as exc:
        erreurs["pieces"] = exc.messages
    if erreurs:
        raise ValidationError(erreurs)

    message = Message.objects.create(fil=fil, auteur=auteur, de_equipe=auteur.is_staff, texte=texte, lien=lien)
    _enregistrer_pieces(message, verifies)
    Fil.objects.filter(pk=fil.pk).update(dernier_message_at=message.created_at)
    fil.dernier_message_at = message.created_at
    fil_marquer_lu(fil=fil, user=auteur)
    if notifier_destinataires:
        _notifier_message(message=message, fil=fil)
    return message


def _enregistrer_pieces(message, verifies):
    """Writes the files to private storage; if anything fails, the files already written are removed."""
    ecrites = []
    try:
        for verifie in verifies:
            piece = PieceJointeMessage(
                message=message,
                nom_original=verifie.nom_original,
                content_type=verifie.content_type,
                taille=verifie.taille,
            )
            piece.fichier.save(f"{uuid.uuid4().hex}.{verifie.extension}", verifie.fichier, save=False)
            ecrites.append(piece.fichier)
            piece.save()
    except Exception:
        for fichier in ecrites:
            fichier.storage.delete(fichier.name)
        raise


def _notifier_message(*, message, fil):
    from .notifications import notifier

    lien = reverse("messagerie:fil", args=[fil.pk])
    if message.de_equipe:
        notifier(
            organisme=fil.organisme,
            type=TypeNotification.NOUVEAU_MESSAGE,
            sujet=f"Nouveau message de l'équipe offre : {fil.sujet}"[:SUJET_MAX],
            texte=message.texte,
            lien=lien,
            formation=fil.formation,
            session=fil.session,
            fil=fil,
        )
    else:
        send_templated_email(
            to=current_region().gip.email,
            template_base="messagerie/emails/message_equipe",
            context={"fil": fil, "message": message, "organisme": fil.organisme, "lien": lien},
        )


@transaction.atomic
def fil_marquer_lu(*, fil, user) -> None:
    """The user has seen every message of the thread so far; their notices about it are read too."""
    dernier = fil.messages.order_by("-id").values_list("id", flat=True).first() or 0
    lecture, created = LectureFil.objects.select_for_update().get_or_create(
        user=user, fil=fil, defaults={"dernier_message_lu": dernier}
    )
    if not created and lecture.dernier_message_lu < dernier:
        lecture.dernier_message_lu = dernier
        lecture.save(update_fields=["dernier_message_lu", "lu_at"])
    Notification.objects.filter(user=user, fil=fil, lue_at__isnull=True).update(lue_at=timezone.now())


# --- reads -----------------------------------------------------------------------------------


def notifications_formation_marquer_lues(*, user, formation) -> int:
    """The user has seen where a formation's validation stands: its workflow notices are read."""
    types = [
        TypeNotification.VALIDATION,
        TypeNotification.COMPLEMENT,
        TypeNotification.COMPLEMENT_ANNULE,
        TypeNotification.REFUS,
    ]
    return Notification.objects.filter(user=user, formation=formation, type__in=types, lue_at__isnull=True).update(
        lue_at=timezone.now()
    )


def fils_visibles(user, organisme=None):
    """Threads a user may see: all for staff (optionally one organisme), else those of `organisme`.

    `organisme` is the contact's current organisme (request.organisme); without it a non-staff
    user sees nothing.
    """
    qs = Fil.objects.all()
    if user.is_staff:
        return qs.filter(organisme=organisme) if organisme is not None else qs
    if organisme is None:
        return qs.none()
    return qs.filter(organisme=organisme)


def _cote_non_lu(user) -> bool:
    """The value of Message.de_equipe that counts as unread for this user (the other side)."""
    return not user.is_staff


def _lecture_subquery(user, ref: str):
    return Coalesce(
        Subquery(LectureFil.objects.filter(fil=OuterRef(ref), user=user).values("dernier_message_lu")[:1]), 0
    )


def annoter_non_lus(queryset, user):
    """Adds `non_lus` (unread messages for this user) and `nb_messages` to a queryset of Fil."""
    return queryset.annotate(_lu=_lecture_subquery(user, "pk")).annotate(
        non_lus=Count(
            "messages", filter=Q(messages__de_equipe=_cote_non_lu(user), messages__id__gt=F("_lu")), distinct=True
        ),
        nb_messages=Count("messages", distinct=True),
    )


def messages_non_lus_count(*, user, organisme=None) -> int:
    """Unread messages for the user (one query)."""
    return (
        Message.objects.filter(fil__in=fils_visibles(user, organisme), de_equipe=_cote_non_lu(user))
        .annotate(_lu=_lecture_subquery(user, "fil"))
        .filter(id__gt=F("_lu"))
        .count()
    )


def notifications_non_lues(*, user, organisme=None):
    qs = Notification.objects.filter(user=user, lue_at__isnull=True)
    if organisme is not None:
        qs = qs.filter(organisme=organisme)
    return qs


def badge_count(*, user, organisme=None) -> int:
    """The badge: unread notices + unread messages.

    Notices of type "nouveau_message" are left out: the unread message they announce is already
    counted (and reading the thread marks them read).
    """
    notices = notifications_non_lues(user=user, organisme=organisme).exclude(type=TypeNotification.NOUVEAU_MESSAGE)
    return notices.count() + messages_non_lus_count(user=user, organisme=organisme)
