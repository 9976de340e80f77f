from django.apps import AppConfig


class MessagerieConfig(AppConfig):
    name = "ofeli.messagerie"
    verbose_name = "Messagerie"
