"""`manage.py restaurer DOSSIER --yes`: replaces the database and the private files by a backup's.

Refuses without --yes. Checks the manifest's checksums before touching anything, restores into the configured
database in one transaction (PostgreSQL: pg_restore --clean --single-transaction; SQLite: the backup API), then
counts every table against the manifest. Stop the web processes and the worker first (docs/deploy.md), run
`manage.py migrate` after when the code is newer than the backup.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ofeli.core.sauvegarde import SauvegardeErreur, restaurer


class Command(BaseCommand):
    help = "Restaure une sauvegarde faite par « sauvegarder » : remplace toute la base et les fichiers privés."

    def add_arguments(self, parser):
        parser.add_argument("dossier", help="dossier de la sauvegarde")
        parser.add_argument("--yes", action="store_true", help="confirme le remplacement de toutes les données")
        parser.add_argument("--database", default="default", help="alias de la base (par défaut : default)")

    def handle(self, *args, dossier, yes, database, **options):
        if not yes:
            raise CommandError(
                "La restauration remplace toutes les données actuelles (base et fichiers privés) par celles de la "
                "sauvegarde. Arrêtez le site et le worker, puis relancez avec --yes pour confirmer."
            )
        try:
            manifest = restaurer(dossier=Path(dossier), alias=database)
        except SauvegardeErreur as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Sauvegarde du {manifest['cree_le']} restaurée : {len(manifest['lignes'])} tables vérifiées "
            f"({sum(manifest['lignes'].values())} lignes), {manifest['nombre_fichiers_prives']} fichier(s) privé(s). "
            "Lancez « manage.py migrate » si le code est plus récent que la sauvegarde."
        )
