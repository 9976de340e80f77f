"""The organisme de formation (the tenant), its contacts and their rights, its lieux.

Every read of an OF's data goes through ofeli.organismes.gate (one gate per object type).
Writes go through ofeli.organismes.services.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Adresse(models.Model):
    """An address as LHEO's <adresse>: lignes, code postal, ville, commune INSEE, département."""

    ligne1 = models.CharField("adresse", max_length=50)
    ligne2 = models.CharField("complément d'adresse", max_length=50, blank=True)
    code_postal = models.CharField("code postal", max_length=5)
    ville = models.CharField(max_length=50)
    commune = models.ForeignKey(
        "referentiels.Commune",
        verbose_name="commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    code_insee = models.CharField("code INSEE commune", max_length=5, blank=True)
    departement = models.CharField("département", max_length=3, blank=True)
    region = models.CharField("région", max_length=3, blank=True)
    pays = models.CharField(max_length=2, default="FR")

    class Meta:
        abstract = True


class Organisme(Adresse):
    class Source(models.TextChoices):
        OFELI = "ofeli", "Saisi dans OFeli"
        IMPORT = "import", "Préchargé par le GIP (import)"

    raison_sociale = models.CharField("raison sociale", max_length=250)
    nom = models.CharField("nom d'usage", max_length=250, blank=True, help_text="LHEO nom-organisme")
    sigle = models.CharField(max_length=50, blank=True)
    siret = models.CharField("SIRET", max_length=14, unique=True)
    nda = models.CharField("numéro de déclaration d'activité", max_length=11, unique=True, null=True, blank=True)
    code_uai = models.CharField("code UAI", max_length=8, blank=True)
    telephone = models.CharField("téléphone", max_length=25, blank=True)
    email = models.EmailField("e-mail", blank=True)
    site_web = models.URLField("site internet", max_length=400, blank=True)
    description = models.TextField("description", blank=True, help_text="LHEO renseignements-specifiques")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OFELI)
    numero = models.CharField("numéro Carif de l'organisme", max_length=30, blank=True, db_index=True)
    actif = models.BooleanField(default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["raison_sociale"]

    def __str__(self):
        return self.nom or self.raison_sociale


class Contact(models.Model):
    """A person's membership of one organisme, with their rights in it.

    Rights, per organisme: every active contact may consult; `peut_saisir` enters the offer;
    `peut_gerer` manages the fiche organisme and the contacts.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts")
    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="contacts")
    fonction = models.CharField(max_length=100, blank=True)
    peut_gerer = models.BooleanField("gérer l'organisme et ses contacts", default=False)
    peut_saisir = models.BooleanField("saisir l'offre", default=False)
    actif = models.BooleanField(default=True)
    consentement_at = models.DateTimeField("consentement aux données personnelles le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisme"], name="contact_unique_user_organisme")]
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return f"{self.user} ({self.organisme})"


class Lieu(Adresse):
    """A lieu de formation of an organisme (LHEO lieu-de-formation)."""

    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="lieux")
    denomination = models.CharField("dénomination", max_length=255, blank=True)
    siret = models.CharField("SIRET du lieu", max_length=14, blank=True)
    telephone = models.CharField("téléphone", max_length=25, blank=True)
    email = models.EmailField("e-mail", blank=True)
    actif = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["ville", "denomination"]
        verbose_name = "lieu de formation"
        verbose_name_plural = "lieux de formation"

    def __str__(self):
        return ", ".join(p for p in [self.denomination, self.ligne1, f"{self.code_postal} {self.ville}"] if p)

    @property
    def hors_region(self) -> bool:
        """True when the lieu's département is not one of the configured region's."""
        from ofeli.core.region import current_region

        return bool(self.departement) and not current_region().contient_departement(self.departement)


class OrganismeFormateur(models.Model):
    """Another OF that delivers sessions for an organisme (the "OF Formateur" column)."""

    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="formateurs")
    siret = models.CharField("SIRET", max_length=14)
    raison_sociale = models.CharField("raison sociale", max_length=250)
    organisme_connu = models.ForeignKey(
        Organisme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="the same OF when it is known to OFeli",
    )
    actif = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisme", "siret"], name="formateur_unique_siret")]
        verbose_name = "organisme formateur"
        verbose_name_plural = "organismes formateurs"

    def __str__(self):
        return self.raison_sociale


class DemandeModificationIdentite(models.Model):
    """A request to change an organisme's identity (raison sociale, SIRET, NDA), decided by the GIP.

    Identity fields never change at once: the OF asks, the équipe offre accepts (the new values
    are then written to the organisme) or refuses with a reason. Every request is kept.
    """

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        ACCEPTEE = "acceptee", "Acceptée"
        REFUSEE = "refusee", "Refusée"

    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="demandes_identite")
    statut = models.CharField(max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True)
    raison_sociale = models.CharField("raison sociale demandée", max_length=250)
    siret = models.CharField("SIRET demandé", max_length=14)
    nda = models.CharField("NDA demandé", max_length=11, blank=True)
    ancienne_raison_sociale = models.CharField("raison sociale précédente", max_length=250)
    ancien_siret = models.CharField("SIRET précédent", max_length=14)
    ancien_nda = models.CharField("NDA précédent", max_length=11, blank=True)
    justification = models.TextField("motif de la demande", blank=True)
    demandee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="demandée par"
    )
    demandee_at = models.DateTimeField("demandée le", auto_now_add=True)
    traitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="traitée par",
    )
    traitee_at = models.DateTimeField("traitée le", null=True, blank=True)
    motif_refus = models.TextField("motif du refus", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-demandee_at"]
        verbose_name = "demande de modification d'identité"
        verbose_name_plural = "demandes de modification d'identité"
        constraints = [
            models.UniqueConstraint(
                fields=["organisme"],
                condition=models.Q(statut="en_attente"),
                name="demande_identite_une_en_attente",
            )
        ]

    def __str__(self):
        return f"Demande de modification d'identité de {self.organisme} ({self.get_statut_display()})"

    def changements(self):
        """(label, before, after) for each identity field the request changes."""
        pairs = [
            ("Raison sociale", self.ancienne_raison_sociale, self.raison_sociale),
            ("SIRET", self.ancien_siret, self.siret),
            ("Numéro de déclaration d'activité", self.ancien_nda, self.nda),
        ]
        return [(label, old, new) for label, old, new in pairs if old != new]
