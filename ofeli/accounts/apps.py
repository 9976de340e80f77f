from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ofeli.accounts"
    verbose_name = "Comptes"
