from django.apps import AppConfig


class RechercheConfig(AppConfig):
    name = "ofeli.recherche"
    verbose_name = "Recherche"
