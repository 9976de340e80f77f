"""A large export built in the background (design note 6): a row with its status, progress and file.

Small exports stream straight to the browser and leave no row. The file lives in private storage (never served
directly) and is downloaded through the gate (ofeli.exports.views.telecharger).
"""

from django.conf import settings
from django.db import models


class Export(models.Model):
    class Format(models.TextChoices):
        LHEO = "lheo", "LHEO (XML)"
        EXCEL = "excel", "Excel (.xlsx)"

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        EN_COURS = "en_cours", "En cours"
        PRET = "pret", "Prêt"
        ECHEC = "echec", "Échec"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    organisme = models.ForeignKey(
        "organismes.Organisme",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exports",
        help_text="the OF whose formations are exported; empty for a staff export of the whole offer",
    )
    format = models.CharField(max_length=10, choices=Format.choices)
    params = models.JSONField("critères de recherche", default=dict, blank=True)
    statut = models.CharField(max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True)
    total = models.PositiveIntegerField("formations à exporter", default=0)
    traitees = models.PositiveIntegerField("formations traitées", default=0)
    nb_formations = models.PositiveIntegerField("formations exportées", default=0)
    nb_actions = models.PositiveIntegerField("actions exportées", default=0)
    nb_sessions = models.PositiveIntegerField("sessions exportées", default=0)
    nb_omises = models.PositiveIntegerField("formations omises (sans session)", default=0)
    fichier = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    taille = models.PositiveBigIntegerField("taille (octets)", default=0)
    erreur = models.TextField(blank=True)
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Export {self.get_format_display()} du {self.created_at:%d/%m/%Y %H:%M}"

    @property
    def pourcentage(self) -> int:
        if self.statut == self.Statut.PRET:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.traitees * 100 / self.total))

    @property
    def termine(self) -> bool:
        return self.statut in {self.Statut.PRET, self.Statut.ECHEC}

    @property
    def nom_fichier(self) -> str:
        extension = "xml" if self.format == self.Format.LHEO else "xlsx"
        return f"ofeli-formations-{self.created_at:%Y%m%d-%H%M}.{extension}"
