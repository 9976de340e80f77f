from django.core.management.base import BaseCommand, CommandError

from ofeli.lheo.validate import valider_lheo


class Command(BaseCommand):
    help = "Vérifie un fichier LHEO (2.3 ou 2.2) avec le schéma XSD officiel et liste chaque erreur avec sa ligne."

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="chemin du fichier LHEO à vérifier")

    def handle(self, *args, fichier, **options):
        try:
            erreurs = valider_lheo(fichier)
        except OSError as exc:
            raise CommandError(f"Lecture impossible de {fichier} : {exc.strerror or exc}") from exc
        if not erreurs:
            self.stdout.write(self.style.SUCCESS(f"{fichier} : fichier LHEO valide."))
            return
        for erreur in erreurs:
            self.stdout.write(f"{fichier}:{erreur.ligne or '?'}: {erreur.message}")
        raise CommandError(f"{fichier} : {len(erreurs)} erreur(s), fichier LHEO non valide.")
