from django.apps import AppConfig


class TableurConfig(AppConfig):
    name = "ofeli.tableur"
    verbose_name = "Import de tableur"
