"""Sends each OF its weekly digest of reminders (the daily Huey task calls the same function)."""

from django.core.management.base import BaseCommand

from ofeli.campagnes.rappels import envoyer_rappels
from ofeli.organismes.models import Organisme


class Command(BaseCommand):
    help = (
        "Envoie aux organismes leurs rappels (sessions qui se terminent, formations non mises à jour depuis un an, "
        "demandes de complément sans réponse), au plus un récapitulatif par semaine."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--simulation", action="store_true", help="affiche ce qui serait envoyé, sans rien envoyer ni enregistrer"
        )

    def handle(self, *args, simulation=False, **options):
        resultat = envoyer_rappels(simulation=simulation)
        noms = dict(Organisme.objects.filter(pk__in=resultat.envois).values_list("pk", "raison_sociale"))
        for organisme_id, elements in resultat.envois.items():
            self.stdout.write(f"{noms.get(organisme_id, organisme_id)} : {len(elements)} rappel(s)")
        verbe = "seraient envoyés" if simulation else "envoyés"
        self.stdout.write(
            self.style.SUCCESS(
                f"{resultat.nb_elements} rappel(s) {verbe} à {resultat.nb_organismes} organisme(s) ; "
                f"{resultat.reportes} organisme(s) déjà prévenu(s) cette semaine."
            )
        )
