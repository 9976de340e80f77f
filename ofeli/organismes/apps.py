from django.apps import AppConfig


class OrganismesConfig(AppConfig):
    name = "ofeli.organismes"
    verbose_name = "Organismes"
