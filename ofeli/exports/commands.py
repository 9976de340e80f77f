"""What `export_lheo` and `export_excel` share: the filters, the atomic write to --output."""

import os
import re
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ofeli.offre.models import Etat
from ofeli.organismes.models import Organisme

from .services import formations_a_exporter


class ExportCommand(BaseCommand):
    format_label = ""

    def add_arguments(self, parser):
        parser.add_argument("--organisme", metavar="NDA", help="numéro de déclaration d'activité de l'organisme")
        parser.add_argument(
            "--etat",
            action="append",
            choices=[e.value for e in Etat],
            metavar="ETAT",
            help="état des formations (répétable) : " + ", ".join(e.value for e in Etat),
        )
        parser.add_argument("--output", required=True, help="fichier à écrire (remplacé de façon atomique)")

    def queryset(self, options):
        organisme = None
        if options.get("organisme"):
            nda = re.sub(r"[\s.\-]", "", options["organisme"])
            organisme = Organisme.objects.filter(nda=nda).first()
            if organisme is None:
                raise CommandError(f"Aucun organisme avec le numéro de déclaration d'activité {options['organisme']}.")
        return formations_a_exporter(organisme=organisme, etats=options.get("etat"))

    def write_atomically(self, target: str, write) -> object:
        """Writes with `write(path)` into a temporary file beside `target`, then renames it over `target`."""
        path = Path(target)
        directory = path.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"Le dossier {directory} n'existe pas.")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        os.close(fd)
        try:
            result = write(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return result
