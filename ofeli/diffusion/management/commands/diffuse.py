"""manage.py diffuse [--partenaire SLUG] [--date AAAA-MM-JJ]: the night's feeds for the active partners.

A night already successful for a partner is not rebuilt (its runs are shown); a failed one is run again
(attempt + 1). Exits with an error when a partner's run failed.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from ofeli.diffusion.feeds import diffuser_nuit
from ofeli.diffusion.models import Partenaire


class Command(BaseCommand):
    help = "Construit les flux LHEO (complet et delta) de la nuit pour chaque partenaire actif."

    def add_arguments(self, parser):
        parser.add_argument("--partenaire", help="identifiant (slug) d'un partenaire")
        parser.add_argument("--date", help="nuit du AAAA-MM-JJ (par défaut aujourd'hui)")

    def handle(self, *args, **options):
        nuit = None
        if options["date"]:
            try:
                nuit = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("Date invalide : attendu AAAA-MM-JJ.") from None
        partenaire = None
        if options["partenaire"]:
            partenaire = Partenaire.objects.filter(slug=options["partenaire"]).first()
            if partenaire is None:
                raise CommandError(f"Partenaire inconnu : {options['partenaire']}.")
        echecs = 0
        for p, resultat in diffuser_nuit(nuit=nuit, partenaire=partenaire):
            if isinstance(resultat, Exception):
                echecs += 1
                self.stderr.write(f"{p.slug} : échec — {resultat}")
                continue
            complet, delta = resultat
            self.stdout.write(
                f"{p.slug} : complet {complet.nb_formations} formations ({complet.sha256[:12] or 'pas de fichier'}), "
                f"delta {delta.nb_formations} formations, {delta.nb_retirees} retirées"
            )
        if echecs:
            raise CommandError(f"{echecs} diffusion(s) en échec : relancez la commande.")
