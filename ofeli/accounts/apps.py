from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ofeli.accounts"
    verbose_name = "Comptes"

    def ready(self):
        from . import signals  # noqa: F401
