"""Imports of offer entered elsewhere (EOS, France Travail, the GIP's collections) and the link checker.

- `ImportRun`: one run of one file (LHEO XML or the export's Excel layout) for one source, at most one
  "En cours" per source, with its status, counts and checkpoint (the number of
  formations already committed, so a re-run after a crash resumes after them). `ImportRejet`: one record of
  the file that could not be imported, with its identifier, its line and the reason in French.
- `LienVerifie`: one website URL (of an organisme, a formation, an action or a session) as the link checker
  last saw it. A link is broken only after failing on two different nights.

Writes go through ofeli.diffusion.imports and ofeli.diffusion.liens.
"""

from django.conf import settings
from django.db import models

__all__ = ["ImportRun", "ImportRejet", "LienVerifie"]


class ImportRun(models.Model):
    class Source(models.TextChoices):
        EOS = "eos", "Région (EOS)"
        AFC = "afc", "France Travail (AFC)"
        POEC = "poec", "France Travail (POEC)"
        APPRENTISSAGE = "apprentissage", "Apprentissage (collecte du GIP)"
        SCOLAIRE = "scolaire", "Scolaire (collecte du GIP)"

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        EN_COURS = "en_cours", "En cours"
        TERMINE = "termine", "Terminé"
        ERREUR = "erreur", "Erreur"

    source = models.CharField(max_length=20, choices=Source.choices)
    complet = models.BooleanField("fichier complet", default=False)
    fichier = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    chemin = models.CharField("chemin du fichier", max_length=500, blank=True)
    nom_fichier = models.CharField("nom du fichier", max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    statut = models.CharField(max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True)
    message = models.TextField("erreur", blank=True)
    total = models.PositiveIntegerField("formations dans le fichier", default=0)
    traitees = models.PositiveIntegerField("formations traitées", default=0)
    checkpoint = models.PositiveIntegerField(
        "reprise", default=0, help_text="formations du fichier déjà enregistrées (une reprise repart d'ici)"
    )
    crees = models.PositiveIntegerField("créées", default=0)
    mises_a_jour = models.PositiveIntegerField("mises à jour", default=0)
    inchangees = models.PositiveIntegerField("inchangées", default=0)
    archivees = models.PositiveIntegerField("archivées", default=0)
    rejetees = models.PositiveIntegerField("rejetées", default=0)
    lance_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("lancé le", auto_now_add=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    battement = models.DateTimeField(
        "dernière activité", null=True, blank=True, help_text="mis à jour à chaque lot : un import muet est arrêté"
    )
    # The process running the import: on the same machine, a killed one is known dead at once (core.processus).
    hote = models.CharField("machine", max_length=255, blank=True)
    pid = models.PositiveIntegerField("processus", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One import at a time per source: the database refuses a second run "En cours" of the same source.
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(statut="en_cours"), name="un_import_en_cours_par_source"
            )
        ]
        verbose_name = "import d'offre"
        verbose_name_plural = "imports d'offre"

    def __str__(self):
        return f"Import {self.get_source_display()} — {self.nom_fichier}"

    @property
    def progression(self) -> int:
        """Percentage of the file's formations handled."""
        if not self.total:
            return 100 if self.statut == self.Statut.TERMINE else 0
        return min(100, round(100 * self.traitees / self.total))

    @property
    def fini(self) -> bool:
        return self.statut in (self.Statut.TERMINE, self.Statut.ERREUR)


class ImportRejet(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejets")
    objet = models.CharField(max_length=20, default="formation")
    identifiant = models.CharField("identifiant dans le fichier", max_length=100, blank=True)
    ligne = models.PositiveIntegerField(null=True, blank=True)
    motif = models.TextField()

    class Meta:
        ordering = ["ligne", "pk"]
        verbose_name = "enregistrement rejeté"
        verbose_name_plural = "enregistrements rejetés"

    def __str__(self):
        return f"{self.identifiant or '?'} : {self.motif}"


class LienVerifie(models.Model):
    class Objet(models.TextChoices):
        ORGANISME = "organisme", "Organisme"
        FORMATION = "formation", "Formation"
        ACTION = "action", "Action"
        SESSION = "session", "Session"

    url = models.URLField(max_length=400)
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="liens_verifies")
    objet = models.CharField(max_length=12, choices=Objet.choices)
    objet_id = models.PositiveIntegerField()
    statut_http = models.PositiveSmallIntegerField("dernier code HTTP", null=True, blank=True)
    erreur = models.CharField("erreur", max_length=300, blank=True)
    derniere_verification = models.DateField("dernière vérification", null=True, blank=True)
    premier_echec = models.DateField("premier échec", null=True, blank=True)
    echecs_consecutifs = models.PositiveSmallIntegerField("échecs consécutifs", default=0)
    casse = models.BooleanField("lien en erreur", default=False, db_index=True)

    class Meta:
        ordering = ["organisme", "objet", "objet_id"]
        constraints = [models.UniqueConstraint(fields=["objet", "objet_id", "url"], name="lien_verifie_unique")]
        verbose_name = "lien vérifié"
        verbose_name_plural = "liens vérifiés"

    def __str__(self):
        return self.url
