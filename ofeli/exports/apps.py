from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "ofeli.exports"
    verbose_name = "Exports"
