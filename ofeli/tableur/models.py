"""The OF's spreadsheet imports (issue 10): one upload, its errors, the rows already imported, saved mappings.

- `ImportTableur`: one uploaded .xlsx of one organisme, analysed (the preview: only the rows and cells in error)
  then, on the user's confirmation, imported as drafts; both phases run as background jobs with progress.
- `ErreurTableur`: one cell (or row) in error, with the reason in French.
- `LigneImportee`: a row already imported, by a stable key (the OF's own reference, or the row's content):
  re-uploading the same file creates nothing twice.
- `Correspondance`: a file from another tool, its headers mapped to OFeli's columns, saved per organisme and
  reused when the same headers come back.

Writes go through ofeli.tableur.services; the offer itself is written by ofeli.offre.services.
"""

from django.conf import settings
from django.db import models


class Correspondance(models.Model):
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64, help_text="sha256 of the normalised headers")
    entetes = models.JSONField("colonnes du fichier", default=list)
    colonnes = models.JSONField("colonnes OFeli", default=dict, help_text="header index (str) -> 'f:champ' / 's:champ'")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisme", "signature"], name="tableur_correspondance_unique")]
        verbose_name = "correspondance de colonnes"
        verbose_name_plural = "correspondances de colonnes"

    def __str__(self):
        return f"Correspondance de {len(self.entetes)} colonnes"


class ImportTableur(models.Model):
    class Statut(models.TextChoices):
        ANALYSE_EN_ATTENTE = "analyse_attente", "Analyse en attente"
        ANALYSE = "analyse", "Analyse en cours"
        CORRESPONDANCE = "correspondance", "Colonnes à faire correspondre"
        VERIFIE = "verifie", "Analysé : à importer"
        IMPORT_EN_ATTENTE = "import_attente", "Import en attente"
        IMPORT = "import", "Import en cours"
        TERMINE = "termine", "Terminé"
        ERREUR = "erreur", "Erreur"

    EN_COURS = {Statut.ANALYSE_EN_ATTENTE, Statut.ANALYSE, Statut.IMPORT_EN_ATTENTE, Statut.IMPORT}

    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="imports_tableur")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    fichier = models.FileField(upload_to="tableur/%Y/%m/")
    nom_fichier = models.CharField("nom du fichier", max_length=255)
    taille = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    statut = models.CharField(max_length=20, choices=Statut.choices, default=Statut.ANALYSE_EN_ATTENTE)
    message = models.TextField("erreur", blank=True)
    correspondance = models.ForeignKey(
        Correspondance, on_delete=models.SET_NULL, null=True, blank=True, related_name="imports"
    )
    total = models.PositiveIntegerField("lignes", default=0)
    traitees = models.PositiveIntegerField("lignes traitées", default=0)
    lignes_valides = models.PositiveIntegerField(default=0)
    lignes_en_erreur = models.PositiveIntegerField(default=0)
    formations_creees = models.PositiveIntegerField(default=0)
    formations_modifiees = models.PositiveIntegerField(default=0)
    sessions_creees = models.PositiveIntegerField(default=0)
    sessions_modifiees = models.PositiveIntegerField(default=0)
    inchangees = models.PositiveIntegerField("lignes déjà importées ou inchangées", default=0)
    refusees = models.PositiveIntegerField("lignes refusées", default=0)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "import de tableur"
        verbose_name_plural = "imports de tableur"

    def __str__(self):
        return self.nom_fichier

    @property
    def en_cours(self) -> bool:
        return self.statut in self.EN_COURS

    @property
    def progression(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * self.traitees / self.total))


class ErreurTableur(models.Model):
    import_tableur = models.ForeignKey(ImportTableur, on_delete=models.CASCADE, related_name="erreurs")
    feuille = models.CharField(max_length=100)
    ligne = models.PositiveIntegerField(null=True, blank=True)
    colonne = models.CharField(max_length=200, blank=True)
    valeur = models.CharField(max_length=200, blank=True)
    motif = models.TextField()

    class Meta:
        ordering = ["pk"]
        verbose_name = "erreur de tableur"
        verbose_name_plural = "erreurs de tableur"

    def __str__(self):
        return f"{self.feuille} ligne {self.ligne} : {self.motif}"


class LigneImportee(models.Model):
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.CASCADE, related_name="+")
    cle = models.CharField(max_length=300)
    formation = models.ForeignKey("offre.Formation", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    session = models.ForeignKey("offre.Session", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    import_tableur = models.ForeignKey(ImportTableur, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisme", "cle"], name="tableur_ligne_importee_unique")]
        verbose_name = "ligne importée"
        verbose_name_plural = "lignes importées"

    def __str__(self):
        return self.cle
