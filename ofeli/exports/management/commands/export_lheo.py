from django.core.management.base import CommandError

from ofeli.exports.commands import ExportCommand
from ofeli.lheo.validate import valider_lheo
from ofeli.lheo.writer import ExportVide, write_formations


class Command(ExportCommand):
    help = (
        "Exporte les formations en LHEO 2.3 (XML). Sans filtre : toutes les formations, dans tous les états, "
        "sessions terminées comprises. Le fichier est vérifié avec le schéma XSD (sauf --no-validate)."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-validate", action="store_true", help="ne pas vérifier le fichier avec le XSD")

    def handle(self, *args, **options):
        queryset = self.queryset(options)

        def write(path):
            with open(path, "wb") as output:
                stats = write_formations(output, queryset)
            if not options["no_validate"]:
                erreurs = valider_lheo(path)
                if erreurs:
                    for erreur in erreurs:
                        self.stderr.write(str(erreur))
                    raise CommandError(
                        f"Le fichier produit n'est pas conforme au schéma LHEO ({len(erreurs)} erreur(s))."
                    )
            return stats

        try:
            stats = self.write_atomically(options["output"], write)
        except ExportVide as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['output']} : {stats.formations} formation(s), {stats.actions} action(s), "
                f"{stats.sessions} session(s)"
                + (f" ; {stats.omises} formation(s) sans session omise(s)" if stats.omises else "")
                + ("." if options["no_validate"] else ", fichier conforme au schéma LHEO.")
            )
        )
