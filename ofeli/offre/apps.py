from django.apps import AppConfig


class OffreConfig(AppConfig):
    name = "ofeli.offre"
    verbose_name = "Offre"
