from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "ofeli.public"
    verbose_name = "Site public"
