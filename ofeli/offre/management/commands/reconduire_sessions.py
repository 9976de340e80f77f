"""`manage.py reconduire_sessions --annee 2027 [--organisme NDA] [--dry-run]`: the GIP's yearly rollover.

Carries every validated session starting in the year before `--annee` (of the formations an OF may
add sessions to) into `--annee`, as drafts each OF checks and submits; one organisme at a time, each in
its own transaction (ofeli.offre.reconduction.reconduire_organisme), its contacts told that drafts wait for
them. Running it again creates nothing twice. `--dry-run` runs every check, rolls back and tells no one.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ofeli.offre.reconduction import reconduire_organisme
from ofeli.organismes.models import Organisme


def _nombre(n: int, mot: str) -> str:
    pluriel = "s" if n > 1 else ""
    return f"{n} {mot.replace('*', pluriel)}"


def _bilan(reconduites: int, deja: int, refusees: int) -> str:
    return (
        f"{_nombre(reconduites, 'session* reconduite*')}, {_nombre(deja, 'déjà reconduite*')}, "
        f"{_nombre(refusees, 'refusée*')}."
    )


class Command(BaseCommand):
    help = "Reconduit en brouillon, sur l'année indiquée, les sessions validées de l'année précédente."

    def add_arguments(self, parser):
        parser.add_argument("--annee", required=True, help="année cible, par exemple 2027")
        parser.add_argument("--organisme", help="numéro de déclaration d'activité (NDA) d'un seul organisme")
        parser.add_argument("--dry-run", action="store_true", help="simulation : rien n'est enregistré")

    def handle(self, *args, annee, organisme=None, dry_run=False, **options):
        if not (annee.isdigit() and len(annee) == 4):
            raise CommandError(f"« {annee} » : indiquez une année sur quatre chiffres, par exemple 2027.")
        annee = int(annee)
        organismes = Organisme.objects.filter(actif=True).order_by("raison_sociale", "pk")
        if organisme:
            organismes = Organisme.objects.filter(nda=organisme.strip())
            if not organismes.exists():
                raise CommandError(f"Aucun organisme n'a le numéro de déclaration d'activité {organisme}.")
        self.stdout.write(f"Reconduction des sessions de {annee - 1} en {annee}.")
        if dry_run:
            self.stdout.write("Simulation : rien n'a été enregistré.")
        totaux = [0, 0, 0]
        for of in organismes:
            try:
                resultat = reconduire_organisme(organisme=of, annee_cible=annee, simulation=dry_run)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            if not resultat.total:
                continue
            compte = (len(resultat.reconduites), len(resultat.deja_reconduites), len(resultat.refusees))
            totaux = [t + c for t, c in zip(totaux, compte, strict=True)]
            self.stdout.write(f"{of.raison_sociale} ({of.nda or 'sans NDA'}) : {_bilan(*compte)}")
            for ligne in resultat.refusees:
                origine = ligne.origine
                self.stdout.write(
                    f"  - session {origine.numero or origine.pk} du {origine.debut:%d/%m/%Y} "
                    f"({ligne.formation.intitule}) : {' '.join(ligne.raisons)}"
                )
        self.stdout.write(f"Total : {_bilan(*totaux)}")
