"""Writes of the accounts app: activation keys, account requests, passwords.

One keyword-only function per write, each in one transaction; e-mails leave on commit.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from ofeli.core.emails import send_templated_email
from ofeli.core.region import current_region
from ofeli.organismes.models import Contact, Organisme

from . import rules
from .models import CleActivation, DemandeCompte, User


class CleActivationInvalide(Exception):
    """The key cannot be used; `raison` is "inconnue", "expiree", "utilisee" or "remplacee"."""

    def __init__(self, raison: str):
        super().__init__(raison)
        self.raison = raison


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lien_activation(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('accounts:activer', args=[token])}"


def cle_activation_envoyer(*, user, organisme=None, envoyee_par=None, invitation=False) -> CleActivation:
    """Sends `user` a new single-use activation link; their previous unused keys stop working.

    The returned key carries the clear token in `.token` (not stored: only its hash is) so
    that callers in the same process (tests) can build the link; the e-mail leaves on commit.
    """
    with transaction.atomic():
        now = timezone.now()
        # Lock the user's row: two sends at once must not leave two valid keys.
        User.objects.select_for_update().filter(pk=user.pk).first()
        deja_envoyee = CleActivation.objects.filter(user=user).exists()
        CleActivation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
        if invitation:
            kind = CleActivation.Kind.INVITATION
        elif deja_envoyee:
            kind = CleActivation.Kind.RENVOI
        else:
            kind = CleActivation.Kind.DEMANDE
        token = secrets.token_urlsafe(32)
        cle = CleActivation.objects.create(
            token_hash=hash_token(token),
            user=user,
            organisme=organisme,
            kind=kind,
            created_at=now,
            expires_at=now + settings.OFELI_ACTIVATION_KEY_VALIDITY,
            created_by=envoyee_par,
        )
        send_templated_email(
            to=user.email,
            template_base="accounts/emails/cle_activation",
            context={
                "user": user,
                "organisme": organisme,
                "invitation": invitation,
                "lien": lien_activation(token),
                "expires_at": cle.expires_at,
                "validite_jours": settings.OFELI_ACTIVATION_KEY_VALIDITY.days,
            },
        )
    cle.token = token
    return cle


def cle_activation_trouver(token: str) -> CleActivation:
    """The key matching `token`, if it can still be used; raises CleActivationInvalide otherwise."""
    cle = CleActivation.objects.select_related("user", "organisme").filter(token_hash=hash_token(token or "")).first()
    _verifier(cle)
    return cle


def _verifier(cle):
    if cle is None:
        raise CleActivationInvalide("inconnue")
    if cle.used_at is not None:
        raise CleActivationInvalide("utilisee")
    if cle.revoked_at is not None:
        raise CleActivationInvalide("remplacee")
    if cle.est_expiree:
        raise CleActivationInvalide("expiree")


def cle_activation_utiliser(*, token: str, password: str) -> User:
    """Sets the password chosen on the activation link, activates the user, marks the key used.

    Raises CleActivationInvalide, or ValidationError when the password breaks the policy.
    """
    with transaction.atomic():
        cle = (
            CleActivation.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=hash_token(token or ""))
            .first()
        )
        _verifier(cle)
        user = cle.user
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.is_active = True
        user.save()
        now = timezone.now()
        cle.used_at = now
        cle.save(update_fields=["used_at"])
        CleActivation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    return user


def utilisateur_mot_de_passe_definir(*, user, password: str) -> User:
    """Sets a password chosen by the user (reset, change): checked against the policy.

    Any activation key still pending stops working: the account is now activated.
    """
    with transaction.atomic():
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save()
        CleActivation.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    return user


class DemandeDejaTraitee(Exception):
    """Another member of the staff processed the request first."""

    def __init__(self, demande):
        super().__init__(f"La demande {demande.pk} est déjà {demande.get_statut_display().lower()}.")
        self.demande = demande


def demande_compte_creer(*, donnees: dict, convention=None) -> DemandeCompte:
    """Records a request from the public form "Créer un compte" and acknowledges it by e-mail.

    `donnees` are the cleaned data of DemandeCompteForm (with its resolved "adresse"). The rules
    are checked again here: two identical requests at once give one request and one error.
    """

    adresse = donnees["adresse"]
    with transaction.atomic():
        erreurs = rules.doublon_verifier(nda=donnees["nda"], siret=donnees["siret"])
        if adresse["hors_region"] and not convention:
            erreurs["convention"] = [rules.message_convention_requise()]
        if erreurs:
            raise ValidationError(erreurs)
        demande = DemandeCompte(
            nda=donnees["nda"],
            siret=donnees["siret"],
            raison_sociale=donnees["raison_sociale"].strip(),
            ligne1=donnees["ligne1"].strip(),
            ligne2=donnees.get("ligne2", "").strip(),
            code_postal=donnees["code_postal"],
            ville=donnees["ville"].strip(),
            commune=adresse["commune"],
            code_insee=adresse["code_insee"],
            departement=adresse["departement"],
            region=adresse["region"],
            civilite=donnees["civilite"],
            nom=donnees["nom"].strip(),
            prenom=donnees["prenom"].strip(),
            email=donnees["email"].strip().lower(),
            telephone=donnees["telephone"].strip(),
            consentement_at=timezone.now(),
        )
        if convention:
            demande.convention_nom = (convention.name or "convention.pdf")[-200:]
            demande.convention.save("convention.pdf", convention, save=False)
        try:
            with transaction.atomic():
                demande.save()
        except IntegrityError:
            if demande.convention:
                demande.convention.delete(save=False)
            raise ValidationError(rules.doublon_verifier(nda=demande.nda, siret=demande.siret)) from None
        send_templated_email(
            to=demande.email, template_base="accounts/emails/demande_recue", context={"demande": demande}
        )
        send_templated_email(
            to=current_region().gip.email,
            template_base="accounts/emails/demande_nouvelle",
            context={"demande": demande, "lien": settings.SITE_URL + reverse("accounts:demande", args=[demande.pk])},
        )
    return demande


def _demande_verrouiller(demande):

    locked = DemandeCompte.objects.select_for_update().get(pk=demande.pk)
    if locked.statut != DemandeCompte.Statut.EN_ATTENTE:
        raise DemandeDejaTraitee(locked)
    return locked


def demande_compte_accepter(*, demande, par) -> DemandeCompte:
    """Accepts a request: creates the organisme, its first contact (who may manage it and enter
    the offer) and their user, then sends the activation key. All or nothing.

    Raises DemandeDejaTraitee when the request was processed meanwhile, ValidationError when
    the organisme was registered since the request was made.
    """

    with transaction.atomic():
        demande = _demande_verrouiller(demande)
        erreurs = rules.doublon_verifier(nda=demande.nda, siret=demande.siret, sauf_demande=demande)
        if erreurs:
            raise ValidationError(erreurs)
        now = timezone.now()
        organisme = Organisme.objects.create(
            raison_sociale=demande.raison_sociale,
            siret=demande.siret,
            nda=demande.nda,
            ligne1=demande.ligne1,
            ligne2=demande.ligne2,
            code_postal=demande.code_postal,
            ville=demande.ville,
            commune=demande.commune,
            code_insee=demande.code_insee,
            departement=demande.departement,
            region=demande.region,
            telephone=demande.telephone,
            email=demande.email,
            source=Organisme.Source.OFELI,
        )
        user = User.objects.filter(email__iexact=demande.email).first()
        nouveau = user is None
        if nouveau:
            user = User(
                email=demande.email,
                civilite=demande.civilite,
                first_name=demande.prenom,
                last_name=demande.nom,
                telephone=demande.telephone,
            )
            user.set_unusable_password()
            user.save()
        Contact.objects.create(
            user=user,
            organisme=organisme,
            peut_gerer=True,
            peut_saisir=True,
            consentement_at=demande.consentement_at,
        )
        demande.statut = DemandeCompte.Statut.ACCEPTEE
        demande.traitee_par = par
        demande.traitee_le = now
        demande.organisme = organisme
        demande.save(update_fields=["statut", "traitee_par", "traitee_le", "organisme"])
        if user.has_usable_password():
            # Already a user of OFeli (a contact of another organisme): no key, they log in.
            send_templated_email(
                to=user.email,
                template_base="accounts/emails/demande_acceptee",
                context={
                    "demande": demande,
                    "organisme": organisme,
                    "lien": settings.SITE_URL + reverse("accounts:login"),
                },
            )
        else:
            cle_activation_envoyer(user=user, organisme=organisme, envoyee_par=par)
    return demande


def demande_compte_refuser(*, demande, par, motif: str) -> DemandeCompte:
    """Refuses a request with a reason, which is e-mailed to the requester."""

    motif = (motif or "").strip()
    if not motif:
        raise ValidationError({"motif": ["Le motif du refus est obligatoire."]})
    with transaction.atomic():
        demande = _demande_verrouiller(demande)
        demande.statut = DemandeCompte.Statut.REFUSEE
        demande.motif = motif
        demande.traitee_par = par
        demande.traitee_le = timezone.now()
        demande.save(update_fields=["statut", "motif", "traitee_par", "traitee_le"])
        send_templated_email(
            to=demande.email, template_base="accounts/emails/demande_refusee", context={"demande": demande}
        )
    return demande
