"""Lost phone: remove every authenticator application and backup code of a member of the équipe offre.

    manage.py otp_reinitialiser prenom.nom@gip.example --par admin@gip.example

`--par` names the superuser who asks for it (checked, and written in the log). The person enrols a new
application at their next login; their current sessions must enter a code again.
"""

import logging

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ofeli.accounts import otp

logger = logging.getLogger("ofeli.jobs")


class Command(BaseCommand):
    help = "Réinitialise la double authentification d'un membre de l'équipe offre (téléphone perdu)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse e-mail du membre de l'équipe offre")
        parser.add_argument("--par", required=True, help="adresse e-mail du superutilisateur qui le demande")

    def handle(self, *args, email, par, **options):
        User = get_user_model()
        admin = User.objects.filter(email__iexact=par.strip(), is_superuser=True, is_active=True).first()
        if admin is None:
            raise CommandError(f"« {par} » n'est pas un superutilisateur actif : réinitialisation refusée.")
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"Aucun compte n'a l'adresse « {email} ».")
        if not otp.concerne(user):
            raise CommandError(
                f"« {user.email} » n'est pas membre de l'équipe offre : il n'a pas de double authentification."
            )
        removed = otp.appareils_reinitialiser(user=user)
        logger.info("job=otp_reinitialiser user=%s par=%s appareils=%s", user.pk, admin.pk, removed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Double authentification de {user.email} réinitialisée ({removed} appareil(s) supprimé(s)). "
                "Cette personne enregistrera une nouvelle application à sa prochaine connexion."
            )
        )
