from django.apps import AppConfig


class CampagnesConfig(AppConfig):
    name = "ofeli.campagnes"
    verbose_name = "Campagnes annuelles"
