"""The messagerie between an OF and the équipe offre, and the in-app notices.

- A `Fil` (thread) belongs to one organisme, optionally about one formation or one session.
- A `Message` is written by a contact of that organisme or by a member of the équipe offre
  (`de_equipe` records the side at the time of writing); it may carry attachments
  (`PieceJointeMessage`, PDF or image, private storage, served through the gate).
- `LectureFil` keeps, per user and thread, the last message the user has read: unread counts
  are per user.
- `Notification` is an in-app notice for one user (everything that also goes by e-mail);
  `PreferenceNotification` says whether that user also wants the e-mail for a type.

Writes go through ofeli.messagerie.services and ofeli.messagerie.notifications.
"""

from django.conf import settings
from django.db import models


class TypeNotification(models.TextChoices):
    NOUVEAU_MESSAGE = "nouveau_message", "Nouveau message de la messagerie"
    VALIDATION = "validation", "Validation d'une formation ou d'une session"
    COMPLEMENT = "complement", "Demande de complément d'information"
    COMPLEMENT_ANNULE = "complement_annule", "Annulation d'une demande de complément"
    REFUS = "refus", "Refus ou non-diffusion"
    RAPPEL = "rappel", "Rappels (sessions à mettre à jour)"
    COMPTE = "compte", "Compte et contacts de l'organisme"


class Fil(models.Model):
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.PROTECT, related_name="fils")
    formation = models.ForeignKey(
        "offre.Formation", on_delete=models.SET_NULL, null=True, blank=True, related_name="fils"
    )
    session = models.ForeignKey("offre.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="fils")
    sujet = models.CharField("sujet", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    dernier_message_at = models.DateTimeField("dernier message le", null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-dernier_message_at", "-id"]
        verbose_name = "fil de discussion"
        verbose_name_plural = "fils de discussion"
        indexes = [models.Index(fields=["organisme", "formation", "session"], name="fil_objet_idx")]

    def __str__(self):
        return self.sujet


class Message(models.Model):
    fil = models.ForeignKey(Fil, on_delete=models.CASCADE, related_name="messages")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages_ofeli")
    de_equipe = models.BooleanField("écrit par l'équipe offre", default=False)
    texte = models.TextField("message", max_length=5000)
    lien = models.CharField(
        "lien vers l'élément à corriger",
        max_length=500,
        blank=True,
        help_text="chemin dans OFeli (commençant par /), affiché comme un bouton sous le message",
    )
    created_at = models.DateTimeField("envoyé le", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.auteur} — {self.created_at:%d/%m/%Y %H:%M}"


class PieceJointeMessage(models.Model):
    """An attachment of a message: PDF or image checked by its content, in private storage."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="pieces")
    fichier = models.FileField(upload_to="messagerie/%Y/%m/")
    nom_original = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField(max_length=100)
    taille = models.PositiveIntegerField("taille (octets)")

    class Meta:
        verbose_name = "pièce jointe d'un message"
        verbose_name_plural = "pièces jointes des messages"

    def __str__(self):
        return self.nom_original


class LectureFil(models.Model):
    """How far one user has read one thread (the id of the last message they have seen)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fil = models.ForeignKey(Fil, on_delete=models.CASCADE, related_name="lectures")
    dernier_message_lu = models.PositiveBigIntegerField(default=0)
    lu_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "fil"], name="lecture_fil_unique_user")]

    def __str__(self):
        return f"{self.user} a lu {self.fil} jusqu'au message {self.dernier_message_lu}"


class Notification(models.Model):
    """An in-app notice for one user, shown on the tableau de bord."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications_ofeli")
    organisme = models.ForeignKey(
        "organismes.Organisme", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    type = models.CharField(max_length=30, choices=TypeNotification.choices)
    sujet = models.CharField(max_length=200)
    texte = models.TextField(blank=True)
    lien = models.CharField(max_length=500, blank=True)
    formation = models.ForeignKey("offre.Formation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    session = models.ForeignKey("offre.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    fil = models.ForeignKey(Fil, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    created_at = models.DateTimeField("le", auto_now_add=True, db_index=True)
    lue_at = models.DateTimeField("lue le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "lue_at"], name="notification_user_lue_idx")]

    def __str__(self):
        return self.sujet


class PreferenceNotification(models.Model):
    """Whether a user receives the e-mail for one type of notice. No row: the e-mail is sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences_ofeli")
    type = models.CharField(max_length=30, choices=TypeNotification.choices)
    email = models.BooleanField("recevoir le courriel", default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "type"], name="preference_unique_user_type")]

    def __str__(self):
        return f"{self.user} — {self.get_type_display()} : {'oui' if self.email else 'non'}"
