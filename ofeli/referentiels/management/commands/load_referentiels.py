"""manage.py load_referentiels: loads (or refreshes) the referentials from their data files.

Idempotent: a second run with the same files changes nothing. Each referential is loaded in its own transaction,
after its whole file has been checked: a malformed file stops the command with a French message naming the line,
and leaves that referential's previous data as it was.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from ofeli.referentiels import loaders

REFERENTIELS = ["communes", "nsf", "rome", "certifinfo", "formacode", "rncp"]
PAR_DEFAUT = ["communes", "nsf", "rome", "certifinfo"]


class Command(BaseCommand):
    help = (
        "Charge les référentiels (régions, départements et communes, NSF, ROME, Certif Info ; Formacode et RNCP/RS "
        "depuis les fichiers fournis). Relancer la commande ne change rien si les fichiers n'ont pas changé."
    )

    def add_arguments(self, parser):
        parser.add_argument("--formacode", metavar="FICHIER", help="fichier Formacode CSV « code;libelle »")
        parser.add_argument(
            "--rncp",
            metavar="FICHIER",
            action="append",
            default=[],
            help="export France Compétences export_fiches_CSV_Standard_*.csv (RNCP ou RS ; option répétable)",
        )
        parser.add_argument(
            "--rncp-blocs",
            metavar="FICHIER",
            help="export France Compétences export_fiches_CSV_Blocs_De_Compétences_*.csv",
        )
        parser.add_argument(
            "--communes", metavar="FICHIER", help="fichier des communes (par défaut celui de la région)"
        )
        parser.add_argument(
            "--only",
            metavar="LISTE",
            help=f"référentiels à charger, séparés par des virgules, parmi : {', '.join(REFERENTIELS)}",
        )
        parser.add_argument(
            "--samples",
            action="store_true",
            help="charge les échantillons du projet pour Formacode et RNCP/RS (démo et tests ; jamais en production)",
        )

    def handle(self, *args, **options):
        wanted = self._wanted(options)
        started = time.monotonic()
        try:
            for name in wanted:
                for bilan in self._load(name, options):
                    self.stdout.write(str(bilan))
        except loaders.ErreurFichier as exc:
            raise CommandError(f"{exc} Les données déjà chargées de ce référentiel sont inchangées.") from exc
        self.stdout.write(self.style.SUCCESS(f"Référentiels chargés en {time.monotonic() - started:.1f} s."))

    def _wanted(self, options) -> list[str]:
        if options["only"]:
            wanted = [w.strip().lower() for w in options["only"].split(",") if w.strip()]
            unknown = [w for w in wanted if w not in REFERENTIELS]
            if unknown:
                raise CommandError(
                    f"Référentiel inconnu : {', '.join(unknown)}. Choisissez parmi : {', '.join(REFERENTIELS)}."
                )
            if "formacode" in wanted and not (options["formacode"] or options["samples"]):
                raise CommandError("Formacode : indiquez le fichier avec --formacode FICHIER (ou --samples).")
            if "rncp" in wanted and not (options["rncp"] or options["rncp_blocs"] or options["samples"]):
                raise CommandError("RNCP/RS : indiquez le fichier avec --rncp FICHIER (ou --samples).")
            return wanted
        wanted = list(PAR_DEFAUT)
        if options["formacode"] or options["samples"]:
            wanted.append("formacode")
        else:
            self.stdout.write("Formacode : aucun fichier indiqué (--formacode), référentiel inchangé.")
        if options["rncp"] or options["rncp_blocs"] or options["samples"]:
            wanted.append("rncp")
        else:
            self.stdout.write("RNCP/RS : aucun fichier indiqué (--rncp, --rncp-blocs), référentiel inchangé.")
        return wanted

    def _load(self, name, options):
        if name == "communes":
            return [*loaders.regions_charger(), loaders.communes_charger(path=options["communes"])]
        if name == "nsf":
            return [loaders.nsf_charger()]
        if name == "rome":
            return [loaders.rome_charger()]
        if name == "certifinfo":
            return [loaders.certifinfo_charger()]
        if name == "formacode":
            return [loaders.formacode_charger(path=options["formacode"] or loaders.FORMACODE_SAMPLE)]
        if options["rncp"] or options["rncp_blocs"]:
            return loaders.certifications_charger(paths=options["rncp"], blocs_path=options["rncp_blocs"])
        return loaders.certifications_charger(paths=[loaders.RNCP_SAMPLE], blocs_path=loaders.RNCP_BLOCS_SAMPLE)
