"""`manage.py import_offre FICHIER --source eos|afc|poec|apprentissage|scolaire [--complet] [--par EMAIL]`.

Imports an LHEO file of offer entered elsewhere (ofeli.diffusion.imports). Running it again on the same file
resumes an interrupted run of that file, or (when the last one finished) imports it again, which changes
nothing. With --complet (a full file), what the source sent before and is absent now is archived: archiving is
an action of the équipe offre, so --par names the staff member it is recorded for.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ofeli.diffusion import imports
from ofeli.diffusion.models_imports import ImportRun


class Command(BaseCommand):
    help = (
        "Importe l'offre d'une source (fichier LHEO 2.2 ou 2.3, ou classeur Excel au format de l'export) : "
        "EOS, AFC, POEC, apprentissage ou scolaire."
    )

    def add_arguments(self, parser):
        parser.add_argument("fichier", help="chemin du fichier LHEO (.xml) ou Excel (.xlsx)")
        parser.add_argument("--source", required=True, choices=ImportRun.Source.values)
        parser.add_argument(
            "--complet", action="store_true", help="fichier complet : archive ce que la source n'envoie plus"
        )
        parser.add_argument("--par", default="", help="e-mail du membre de l'équipe offre qui lance l'import")
        parser.add_argument("--taille-lot", type=int, default=imports.TAILLE_LOT, help="formations par transaction")

    def handle(self, *args, fichier, source, complet, par, taille_lot, **options):
        chemin = Path(fichier)
        if not chemin.is_file():
            raise CommandError(f"Fichier introuvable : {fichier}")
        user = None
        if par:
            user = get_user_model().objects.filter(email__iexact=par, is_staff=True, is_active=True).first()
            if user is None:
                raise CommandError(f"Aucun membre actif de l'équipe offre avec l'e-mail {par}.")
        elif complet:
            raise CommandError("--complet archive des formations : indiquez --par EMAIL (membre de l'équipe offre).")
        run = ImportRun(source=source, chemin=str(chemin.resolve()))
        run = imports.import_a_reprendre(source=source, sha256=imports.sha256_de(run))
        if run is not None and run.complet == complet:
            self.stdout.write(f"Reprise de l'import n° {run.pk} après {run.checkpoint} formation(s).")
        else:
            run = imports.import_creer(source=source, chemin=str(chemin.resolve()), complet=complet, user=user)
        try:
            imports.import_executer(run=run, taille_lot=taille_lot)
        except Exception as exc:
            raise CommandError(run.message or str(exc)) from exc
        if run.statut == ImportRun.Statut.ERREUR:
            raise CommandError(f"Import refusé : {run.message}")
        self.stdout.write(
            f"Import n° {run.pk} terminé : {run.crees} créée(s), {run.mises_a_jour} mise(s) à jour, "
            f"{run.inchangees} inchangée(s), {run.archivees} archivée(s), {run.rejetees} rejetée(s)."
        )
        for rejet in run.rejets.all():
            self.stdout.write(f"  Rejet {rejet.identifiant} (ligne {rejet.ligne or '?'}) : {rejet.motif}")
