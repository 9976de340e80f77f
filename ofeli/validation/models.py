"""The validated offer and the workflow's records (design notes 1 and 2).

- Publication: an immutable, versioned snapshot of a formation as validated by the GIP (its
  validated actions and sessions included). Readers of the validated offer (public site, partner
  feeds, "Formations diffusées" counters) read publications only. At most one publication per
  formation is current (closed_at is null); validating again closes the previous one, archiving
  or withdrawing closes it without a successor.
- Transition: one row per move of a formation, an action or a session from one state to another
  (who, when, why).
- DemandeComplement: a request for complement of information sent by the équipe offre; it stays
  (with its message) whatever happens to it: answered by the OF, or cancelled by staff.
- Compteur: the counter rows Carif numbers are drawn from on SQLite (PostgreSQL: sequences, ofeli.validation.numeros).

Writes go through ofeli.validation.workflow; nothing here is written directly by views.
"""

from django.conf import settings
from django.db import models

from ofeli.offre.models import Etat


class PublicationQuerySet(models.QuerySet):
    def courantes(self):
        """The publications diffused now (one at most per formation)."""
        return self.filter(closed_at__isnull=True)

    def closes(self):
        return self.filter(closed_at__isnull=False)

    def de_organisme(self, organisme):
        return self.filter(organisme=organisme)


class Publication(models.Model):
    class Fermeture(models.TextChoices):
        REMPLACEE = "remplacee", "Remplacée par une nouvelle version validée"
        ARCHIVEE = "archivee", "Archivée par l'organisme"
        NON_DIFFUSEE = "non_diffusee", "Retirée de la diffusion par le GIP"

    formation = models.ForeignKey("offre.Formation", on_delete=models.PROTECT, related_name="publications")
    # Denormalised from the snapshot so that counters and feeds need no JSON query.
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.PROTECT, related_name="publications")
    fonds_publics = models.BooleanField(
        "financée sur fonds publics", default=False, help_text="au moins une action d'un dispositif public"
    )
    numero = models.PositiveIntegerField("version")
    data = models.JSONField("instantané", help_text="la formation et ses actions et sessions validées")
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    validated_at = models.DateTimeField("validée le", db_index=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True, db_index=True)
    closed_reason = models.CharField("motif de fermeture", max_length=20, choices=Fermeture.choices, blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["formation_id", "-numero"]
        constraints = [
            models.UniqueConstraint(
                fields=["formation"], condition=models.Q(closed_at__isnull=True), name="publication_une_courante"
            ),
            models.UniqueConstraint(fields=["formation", "numero"], name="publication_numero_unique"),
        ]

    def __str__(self):
        return f"{self.data.get('formation', {}).get('intitule', self.formation_id)} (version {self.numero})"

    @property
    def courante(self) -> bool:
        return self.closed_at is None

    @property
    def sessions(self) -> list[dict]:
        """The published sessions, each with its action's key (flattened for lists)."""
        return [dict(s, action_id=a["id"]) for a in self.data.get("actions", []) for s in a.get("sessions", [])]


def publication_courante(formation) -> Publication | None:
    """The publication diffused now for a formation (or a formation's pk), None if not diffused."""
    pk = getattr(formation, "pk", formation)
    return Publication.objects.filter(formation_id=pk, closed_at__isnull=True).first()


class Transition(models.Model):
    """One move in the workflow: the log staff and the OF read on the item's page."""

    class Acteur(models.TextChoices):
        OF = "of", "Organisme de formation"
        STAFF = "staff", "Équipe offre"
        SYSTEM = "system", "Système"

    class Objet(models.TextChoices):
        FORMATION = "formation", "Formation"
        ACTION = "action", "Action"
        SESSION = "session", "Session"

    # The formation is always set (the item's page lists its log and its sessions' log).
    formation = models.ForeignKey("offre.Formation", on_delete=models.CASCADE, related_name="transitions")
    action = models.ForeignKey(
        "offre.Action", on_delete=models.CASCADE, null=True, blank=True, related_name="transitions"
    )
    session = models.ForeignKey(
        "offre.Session", on_delete=models.CASCADE, null=True, blank=True, related_name="transitions"
    )
    objet = models.CharField(max_length=10, choices=Objet.choices)
    etat_avant = models.CharField("état avant", max_length=20, choices=Etat.choices)
    etat_apres = models.CharField("état après", max_length=20, choices=Etat.choices)
    acteur = models.CharField(max_length=10, choices=Acteur.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField("motif ou message", blank=True)
    created_at = models.DateTimeField("le", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_objet_display()} : {self.get_etat_avant_display()} → {self.get_etat_apres_display()}"


class DemandeComplementQuerySet(models.QuerySet):
    def ouvertes(self):
        return self.filter(statut=DemandeComplement.Statut.OUVERTE)


class DemandeComplement(models.Model):
    """A request for complement of information, about a formation or one of its sessions."""

    class Statut(models.TextChoices):
        OUVERTE = "ouverte", "En attente des corrections"
        CORRIGEE = "corrigee", "Corrections effectuées"
        ANNULEE = "annulee", "Annulée par l'équipe offre"

    formation = models.ForeignKey("offre.Formation", on_delete=models.CASCADE, related_name="demandes_complement")
    session = models.ForeignKey(
        "offre.Session", on_delete=models.CASCADE, null=True, blank=True, related_name="demandes_complement"
    )
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="demandes_complement")
    message = models.TextField("message")
    lien = models.CharField("écran à corriger", max_length=400, blank=True)
    statut = models.CharField(max_length=10, choices=Statut.choices, default=Statut.OUVERTE, db_index=True)
    demandee_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    demandee_at = models.DateTimeField("demandée le", auto_now_add=True)
    traitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    traitee_at = models.DateTimeField("traitée le", null=True, blank=True)

    objects = DemandeComplementQuerySet.as_manager()

    class Meta:
        ordering = ["-demandee_at", "-id"]
        verbose_name = "demande de complément d'information"
        verbose_name_plural = "demandes de complément d'information"

    def __str__(self):
        cible = self.session or self.formation
        return f"Complément demandé pour {cible}"


class Compteur(models.Model):
    """One counter row per kind of Carif number (F, A, S): the last number given (SQLite; PostgreSQL draws from
    sequences, whose starting point a counter of an older installation gave: ofeli.validation.numeros)."""

    nom = models.CharField(max_length=20, primary_key=True)
    valeur = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.nom} = {self.valeur}"
