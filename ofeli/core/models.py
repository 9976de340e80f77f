from django.conf import settings
from django.db import models


class Heartbeat(models.Model):
    """The last time a process proved it was alive (the Huey worker writes "worker" every minute)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.at:%d/%m/%Y %H:%M:%S}"


class AlerteAcquittee(models.Model):
    """An error shown on the staff home (failed diffusion run, failed import, broken links) that a member of the
    équipe offre has acknowledged: it leaves the home page. `objet_id` is the run's id; for broken links (no run),
    None, and links found broken after `acquittee_at` show again."""

    class Type(models.TextChoices):
        DIFFUSION = "diffusion", "Flux de diffusion en échec"
        IMPORT = "import", "Import en erreur"
        LIENS = "liens", "Liens en erreur"

    type = models.CharField(max_length=12, choices=Type.choices)
    objet_id = models.PositiveIntegerField(null=True, blank=True)
    acquittee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acquittee_at = models.DateTimeField("acquittée le", auto_now_add=True)

    class Meta:
        verbose_name = "alerte acquittée"
        verbose_name_plural = "alertes acquittées"
        indexes = [models.Index(fields=["type", "objet_id"])]

    def __str__(self):
        return f"{self.get_type_display()} {self.objet_id or ''} acquittée le {self.acquittee_at:%d/%m/%Y}"
