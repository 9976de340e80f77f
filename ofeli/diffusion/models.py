"""Nightly diffusion of the validated offer to partners, and the partner API.

- Partenaire: who receives the offer and which part of it (the whole validated offer, or only the sessions
  of some dispositifs; ended sessions left out or not). Data, managed by the équipe offre.
- JetonPartenaire: an API token of a partner. Only its SHA-256 is stored; revoked, it stops working.
- PublicationLheo: the LHEO fragment of one validation.Publication (computed once, at validation).
- DiffusionRun: one feed built for one partner and one night (full or delta), with its outcome.
- EtatDiffusion: what was last sent to a partner for a formation (which publication, which sessions).
  Updated only when a night's run succeeds: the next delta is computed against it.
- Telechargement: a partner fetched a feed's file over the API.

Writes go through ofeli.diffusion.feeds, ofeli.diffusion.partenaires and ofeli.diffusion.api.
"""

from django.conf import settings
from django.db import models

from ofeli.offre.models import Dispositif


class Partenaire(models.Model):
    class Type(models.TextChoices):
        SITE_REGIONAL = "site_regional", "Site internet régional"
        SITE_NATIONAL = "site_national", "Site internet national"
        BASE_NATIONALE = "base_nationale", "Base nationale des Carif-Oref"
        FRANCE_TRAVAIL = "france_travail", "Outils de France Travail"
        AUTRE = "autre", "Autre outil"

    class Perimetre(models.TextChoices):
        TOUT = "tout", "Toute l'offre validée"
        DISPOSITIFS = "dispositifs", "Les sessions de certains dispositifs"

    nom = models.CharField(max_length=150)
    slug = models.SlugField("identifiant", max_length=50, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.AUTRE)
    description = models.CharField(max_length=500, blank=True)
    actif = models.BooleanField("reçoit le flux chaque nuit", default=True)
    perimetre = models.CharField("offre transmise", max_length=20, choices=Perimetre.choices, default=Perimetre.TOUT)
    dispositifs = models.JSONField(
        "dispositifs transmis", default=list, blank=True, help_text="codes de offre.Dispositif (périmètre dispositifs)"
    )
    exclure_terminees = models.BooleanField("sans les sessions terminées", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["nom"]

    def __str__(self):
        return self.nom

    def dispositifs_libelles(self) -> list[str]:
        labels = dict(Dispositif.choices)
        return [str(labels.get(code, code)) for code in self.dispositifs]

    def prend_dispositif(self, dispositif: str) -> bool:
        return self.perimetre == self.Perimetre.TOUT or dispositif in self.dispositifs


class JetonPartenaire(models.Model):
    partenaire = models.ForeignKey(Partenaire, on_delete=models.CASCADE, related_name="jetons")
    libelle = models.CharField("libellé", max_length=100, blank=True)
    prefixe = models.CharField("début du jeton", max_length=12)
    empreinte = models.CharField("SHA-256 du jeton", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "jeton d'accès partenaire"

    def __str__(self):
        return f"{self.prefixe}… ({self.partenaire})"

    @property
    def actif(self) -> bool:
        return self.revoked_at is None


class PublicationLheo(models.Model):
    publication = models.OneToOneField(
        "validation.Publication", on_delete=models.CASCADE, related_name="lheo", primary_key=True
    )
    fragment = models.TextField("fragment LHEO", blank=True, help_text="vide si la publication n'a aucune session")
    nb_sessions = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "fragment LHEO d'une publication"

    def __str__(self):
        return f"LHEO de la publication {self.publication_id}"


class DiffusionRun(models.Model):
    class Kind(models.TextChoices):
        COMPLET = "complet", "Complet"
        DELTA = "delta", "Delta"

    class Statut(models.TextChoices):
        EN_COURS = "en_cours", "En cours"
        REUSSI = "reussi", "Réussi"
        ECHEC = "echec", "Échec"

    partenaire = models.ForeignKey(Partenaire, on_delete=models.PROTECT, related_name="runs")
    nuit = models.DateField("nuit du", db_index=True)
    kind = models.CharField("type", max_length=10, choices=Kind.choices)
    statut = models.CharField(max_length=10, choices=Statut.choices, default=Statut.EN_COURS, db_index=True)
    tentative = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField("commencé le")
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    nb_formations = models.PositiveIntegerField("formations", default=0)
    nb_sessions = models.PositiveIntegerField("sessions", default=0)
    nb_nouvelles = models.PositiveIntegerField("formations nouvelles", default=0)
    nb_modifiees = models.PositiveIntegerField("formations modifiées", default=0)
    nb_retirees = models.PositiveIntegerField("formations retirées", default=0)
    retraits = models.JSONField(
        "retraits",
        default=list,
        blank=True,
        help_text="[{formation, sessions: [numéros]}] retirés depuis le flux précédent",
    )
    erreurs = models.JSONField("publications en erreur", default=list, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    taille = models.PositiveBigIntegerField("taille (octets)", default=0)
    fichier = models.CharField("fichier (stockage privé)", max_length=300, blank=True)
    erreur = models.TextField(blank=True)
    lance_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The process building the run: on the same machine, a run whose process is gone is known dead at once.
    hote = models.CharField("machine", max_length=255, blank=True)
    pid = models.PositiveIntegerField("processus", null=True, blank=True)
    # Updated while the run is built (feeds.BATTEMENT): a run of another machine silent for feeds.RUN_INACTIF is
    # known dead (its worker was killed).
    battement = models.DateTimeField("dernier signe de vie", null=True, blank=True)

    class Meta:
        ordering = ["-nuit", "partenaire__nom", "kind", "-tentative"]
        verbose_name = "flux de diffusion"
        verbose_name_plural = "flux de diffusion"
        constraints = [
            models.UniqueConstraint(
                fields=["partenaire", "nuit", "kind"],
                condition=models.Q(statut="reussi"),
                name="diffusion_run_un_succes_par_nuit",
            ),
            models.UniqueConstraint(fields=["partenaire", "nuit", "kind", "tentative"], name="diffusion_run_tentative"),
        ]

    def __str__(self):
        return f"{self.partenaire} — {self.get_kind_display()} de la nuit du {self.nuit:%d/%m/%Y}"


class EtatDiffusion(models.Model):
    partenaire = models.ForeignKey(Partenaire, on_delete=models.CASCADE, related_name="etats")
    formation = models.ForeignKey("offre.Formation", on_delete=models.CASCADE, related_name="+")
    publication = models.ForeignKey("validation.Publication", on_delete=models.PROTECT, related_name="+")
    sessions = models.JSONField("sessions envoyées (ids)", default=list)
    run = models.ForeignKey(DiffusionRun, on_delete=models.PROTECT, related_name="+", help_text="delta qui l'a envoyé")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partenaire", "formation"], name="etat_diffusion_unique")]

    def __str__(self):
        return f"{self.partenaire} : formation {self.formation_id} (publication {self.publication_id})"


class Telechargement(models.Model):
    run = models.ForeignKey(DiffusionRun, on_delete=models.CASCADE, related_name="telechargements")
    jeton = models.ForeignKey(JetonPartenaire, on_delete=models.SET_NULL, null=True, related_name="telechargements")
    at = models.DateTimeField("récupéré le", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.run} récupéré le {self.at:%d/%m/%Y %H:%M}"


from .models_imports import *  # noqa: E402, F403
