from django.apps import AppConfig


class ReferentielsConfig(AppConfig):
    name = "ofeli.referentiels"
    verbose_name = "Référentiels"
