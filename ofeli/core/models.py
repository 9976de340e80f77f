from django.db import models


class Heartbeat(models.Model):
    """The last time a process proved it was alive (the Huey worker writes "worker" every minute)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.at:%d/%m/%Y %H:%M:%S}"
