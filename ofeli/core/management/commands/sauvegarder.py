"""`manage.py sauvegarder --output DOSSIER`: a backup of the database and the private files (ofeli.core.sauvegarde).

PostgreSQL: pg_dump in custom format, read from one snapshot with the row counts of the manifest; SQLite: the
online backup API (safe while the web and the worker write, WAL included). Plus a tar of the private files and
a manifest.json with checksums, written last. Exits with an error, and a French message, when anything fails.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ofeli.core.sauvegarde import SauvegardeErreur, sauvegarder


class Command(BaseCommand):
    help = "Sauvegarde la base de données et les fichiers privés dans un dossier neuf, avec un manifeste."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="dossier de la sauvegarde (créé ; doit être vide)")
        parser.add_argument("--database", default="default", help="alias de la base (par défaut : default)")

    def handle(self, *args, output, database, **options):
        try:
            manifest = sauvegarder(dossier=Path(output), alias=database)
        except SauvegardeErreur as exc:
            raise CommandError(str(exc)) from exc
        lignes = sum(manifest["lignes"].values())
        self.stdout.write(
            f"Sauvegarde {manifest['moteur']} écrite dans {output} en {manifest['duree_s']} s : "
            f"{len(manifest['lignes'])} tables, {lignes} lignes, "
            f"{manifest['nombre_fichiers_prives']} fichier(s) privé(s)."
        )
