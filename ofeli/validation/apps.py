from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "ofeli.validation"
    verbose_name = "Validation"
