"""Notices to an OF's contacts: in the app (always) and by e-mail (unless the contact switched that type off).

Providers often do not read e-mails: everything sent by e-mail is also an in-app notice, shown with
a badge and a list on the tableau de bord.

    notifier(organisme=..., type=TypeNotification.VALIDATION, sujet=..., texte=..., lien="/offre/...")

`lien` is a path inside OFeli (the e-mail makes it absolute with settings.SITE_URL). E-mails leave
only once the transaction commits (ofeli.core.emails.send_templated_email).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ofeli.core.emails import send_templated_email
from ofeli.organismes.models import Contact

from .models import Notification, PreferenceNotification, TypeNotification
from .services import lien_est_local

__all__ = [
    "TypeNotification",
    "destinataires",
    "email_souhaite",
    "notification_marquer_lue",
    "notifications_marquer_toutes_lues",
    "notifier",
    "preferences_enregistrer",
    "preferences_pour",
]


def destinataires(organisme):
    """The users notified for an organisme: its active contacts with an active account."""
    users = {}
    for contact in Contact.objects.filter(organisme=organisme, actif=True, user__is_active=True).select_related("user"):
        users.setdefault(contact.user_id, contact.user)
    return list(users.values())


def preferences_pour(user) -> dict[str, bool]:
    """{type: receives the e-mail} for every type; a type without a saved choice is on."""
    saved = dict(PreferenceNotification.objects.filter(user=user).values_list("type", "email"))
    return {value: saved.get(value, True) for value in TypeNotification.values}


def email_souhaite(user, type: str) -> bool:
    return not PreferenceNotification.objects.filter(user=user, type=type, email=False).exists()


@transaction.atomic
def notifier(*, organisme, type, sujet, texte, lien, formation=None, session=None, fil=None) -> list[Notification]:
    """Creates an in-app notice for each active contact of `organisme` and e-mails those who want this type.

    Returns the notices created. `type` is a TypeNotification value.
    """
    type = TypeNotification(type)
    lien = lien or ""
    if lien and not lien_est_local(lien):
        raise ValidationError({"lien": "Le lien d'une notification doit être une adresse dans OFeli."})
    users = destinataires(organisme)
    if not users:
        return []
    notices = Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                organisme=organisme,
                type=type,
                sujet=sujet[:200],
                texte=texte or "",
                lien=lien,
                formation=formation,
                session=session,
                fil=fil,
            )
            for user in users
        ]
    )
    sans_email = set(
        PreferenceNotification.objects.filter(user__in=users, type=type, email=False).values_list("user_id", flat=True)
    )
    for user in users:
        if user.pk in sans_email:
            continue
        send_templated_email(
            to=user.email,
            template_base="messagerie/emails/notification",
            context={
                "user": user,
                "organisme": organisme,
                "type_label": type.label,
                "sujet": sujet,
                "texte": texte or "",
                "lien": lien,
            },
        )
    return notices


@transaction.atomic
def notification_marquer_lue(*, notification, user) -> Notification:
    if notification.user_id != user.pk:
        raise ValidationError("Cette notification ne vous est pas adressée.")
    if notification.lue_at is None:
        notification.lue_at = timezone.now()
        notification.save(update_fields=["lue_at"])
    return notification


@transaction.atomic
def notifications_marquer_toutes_lues(*, user, organisme=None) -> int:
    qs = Notification.objects.filter(user=user, lue_at__isnull=True)
    if organisme is not None:
        qs = qs.filter(organisme=organisme)
    return qs.update(lue_at=timezone.now())


@transaction.atomic
def preferences_enregistrer(*, user, choix: dict[str, bool]) -> None:
    """Saves, for each type in `choix`, whether the user receives its e-mail."""
    for type, email in choix.items():
        PreferenceNotification.objects.update_or_create(
            user=user, type=TypeNotification(type), defaults={"email": bool(email)}
        )
