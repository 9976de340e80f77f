"""`manage.py verifier_liens`: checks every website link of the offer (the nightly job, ofeli.diffusion.liens)."""

from django.core.management.base import BaseCommand

from ofeli.diffusion import liens


class Command(BaseCommand):
    help = "Vérifie les liens « site internet » des organismes, formations, actions et sessions."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=liens.MAX_THREADS, help="vérifications simultanées")
        parser.add_argument("--timeout", type=float, default=liens.TIMEOUT, help="délai par requête (secondes)")

    def handle(self, *args, threads, timeout, **options):
        resultat = liens.verifier_liens(max_threads=threads, timeout=timeout)
        self.stdout.write(
            f"{resultat['verifies']} lien(s) vérifié(s) : {resultat['en_echec']} en échec cette nuit, "
            f"{resultat['en_erreur']} en erreur (deux nuits ou plus), {resultat['retires']} retiré(s)."
        )
