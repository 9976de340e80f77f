"""The yearly campaign and the reminders.

- `Campagne`: the GIP asks, once a year, the OFs of a kind of offer (apprentissage or scolaire, the
  formation's `source`) to check and update their formations over a period. At most one campaign is
  open per kind of offer.
- `Participation`: one OF concerned by a campaign (it had formations of that kind at the opening):
  when it was told, when and by whom it confirmed its offer, how many times it was reminded.
- `Relance`: each reminder staff sent to an OF that had not confirmed.
- `EnvoiRappel` and `RappelElement`: each weekly digest of reminders sent to an OF (sessions about to
  end while still open to recruitment, formations not updated for a year, requests for complement
  unanswered for a week) and the items it listed, so that an item is not repeated before its period.

Writes go through ofeli.campagnes.services (campaign) and ofeli.campagnes.rappels (reminders).
"""

from django.conf import settings
from django.db import models

from ofeli.offre.models import Source


class TypeOffre(models.TextChoices):
    """The kinds of offer the GIP collects each year (values of offre.Formation.source)."""

    APPRENTISSAGE = Source.APPRENTISSAGE.value, "Apprentissage"
    SCOLAIRE = Source.SCOLAIRE.value, "Scolaire"


class Campagne(models.Model):
    class Statut(models.TextChoices):
        OUVERTE = "ouverte", "En cours"
        CLOSE = "close", "Clôturée"

    type_offre = models.CharField("formations concernées", max_length=20, choices=TypeOffre.choices)
    debut = models.DateField("début de la campagne")
    fin = models.DateField("fin de la campagne")
    message = models.TextField("message aux organismes", max_length=3000, blank=True)
    statut = models.CharField(max_length=10, choices=Statut.choices, default=Statut.OUVERTE, db_index=True)
    ouverte_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ouverte_at = models.DateTimeField("ouverte le")
    close_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_at = models.DateTimeField("clôturée le", null=True, blank=True)

    class Meta:
        ordering = ["-ouverte_at", "-id"]
        verbose_name = "campagne annuelle"
        verbose_name_plural = "campagnes annuelles"
        constraints = [
            models.UniqueConstraint(
                fields=["type_offre"], condition=models.Q(statut="ouverte"), name="campagne_une_ouverte_par_type"
            ),
            models.CheckConstraint(condition=models.Q(debut__lte=models.F("fin")), name="campagne_debut_avant_fin"),
        ]

    def __str__(self):
        return self.titre

    @property
    def titre(self) -> str:
        return f"Campagne {self.get_type_offre_display().lower()} du {self.debut:%d/%m/%Y} au {self.fin:%d/%m/%Y}"

    @property
    def ouverte(self) -> bool:
        return self.statut == self.Statut.OUVERTE


class Participation(models.Model):
    """An OF concerned by a campaign."""

    campagne = models.ForeignKey(Campagne, on_delete=models.CASCADE, related_name="participations")
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.PROTECT, related_name="participations")
    nb_formations = models.PositiveIntegerField("formations concernées à l'ouverture", default=0)
    ajoutee_at = models.DateTimeField("concerné depuis le", auto_now_add=True)
    notifiee_at = models.DateTimeField("prévenu le", null=True, blank=True)
    nb_destinataires = models.PositiveIntegerField("contacts prévenus", default=0)
    confirmee_at = models.DateTimeField("offre confirmée le", null=True, blank=True, db_index=True)
    confirmee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="confirmée par",
    )
    nb_relances = models.PositiveIntegerField("relances", default=0)
    derniere_relance_at = models.DateTimeField("dernière relance le", null=True, blank=True)

    class Meta:
        ordering = ["organisme__raison_sociale", "id"]
        constraints = [models.UniqueConstraint(fields=["campagne", "organisme"], name="participation_unique_organisme")]

    def __str__(self):
        return f"{self.organisme} — {self.campagne}"

    @property
    def confirmee(self) -> bool:
        return self.confirmee_at is not None


class Relance(models.Model):
    """A reminder sent by the équipe offre to an OF that had not confirmed its offer."""

    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="relances")
    envoyee_at = models.DateTimeField("envoyée le", auto_now_add=True)
    envoyee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    nb_destinataires = models.PositiveIntegerField("contacts prévenus", default=0)

    class Meta:
        ordering = ["-envoyee_at", "-id"]

    def __str__(self):
        return f"Relance de {self.participation.organisme} le {self.envoyee_at:%d/%m/%Y}"


class TypeRappel(models.TextChoices):
    SESSION_FIN_PROCHE = "session_fin_proche", "Sessions qui se terminent bientôt, recrutement encore ouvert"
    FORMATION_ANCIENNE = "formation_ancienne", "Formations non mises à jour depuis un an"
    COMPLEMENT_SANS_REPONSE = "complement_sans_reponse", "Demandes de complément d'information sans réponse"


class EnvoiRappel(models.Model):
    """One digest of reminders sent to an OF's contacts (an in-app notice and an e-mail each)."""

    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="envois_rappels")
    date = models.DateField("envoyé le (jour)")
    envoye_at = models.DateTimeField("envoyé le", auto_now_add=True)
    nb_destinataires = models.PositiveIntegerField("contacts prévenus", default=0)

    class Meta:
        ordering = ["-envoye_at", "-id"]
        verbose_name = "envoi de rappels"
        verbose_name_plural = "envois de rappels"
        constraints = [models.UniqueConstraint(fields=["organisme", "date"], name="envoi_rappel_un_par_jour")]
        indexes = [models.Index(fields=["organisme", "-date"], name="envoi_rappel_org_date_idx")]

    def __str__(self):
        return f"Rappels à {self.organisme} le {self.date:%d/%m/%Y}"


class RappelElement(models.Model):
    """One item of a digest. `cle` identifies the situation reminded (say a session and its end date)."""

    envoi = models.ForeignKey(EnvoiRappel, on_delete=models.CASCADE, related_name="elements")
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=30, choices=TypeRappel.choices)
    cle = models.CharField(max_length=100)
    libelle = models.CharField(max_length=300)
    detail = models.CharField(max_length=300, blank=True)
    lien = models.CharField(max_length=500, blank=True)
    envoye_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["type", "id"]
        indexes = [models.Index(fields=["organisme", "type", "cle"], name="rappel_element_cle_idx")]

    def __str__(self):
        return self.libelle
