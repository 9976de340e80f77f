from django.apps import AppConfig


class DiffusionConfig(AppConfig):
    name = "ofeli.diffusion"
    verbose_name = "Diffusion"
