from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "ofeli.core"
    verbose_name = "Socle"
