"""Every write on an organisme, its lieux, formateurs and contacts (one function per write).

Each function is keyword-only, runs in one transaction, records the acting user in the audit
trail (django-simple-history's history_user) and sends e-mails only once committed. Rules
raise django.core.exceptions.ValidationError with French messages keyed by field.
"""

import re
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone

from ofeli.accounts.models import User
from ofeli.core.emails import send_templated_email
from ofeli.core.identifiants import normaliser_nda, normaliser_siret
from ofeli.core.region import current_region
from ofeli.referentiels.models import Commune

from .models import Contact, DemandeModificationIdentite, Lieu, Organisme, OrganismeFormateur

# Fields of the fiche organisme an OF manager changes at once; identity fields go through a request.
CHAMPS_FICHE = [
    "nom",
    "sigle",
    "ligne1",
    "ligne2",
    "code_postal",
    "ville",
    "code_insee",
    "telephone",
    "email",
    "site_web",
    "description",
    "code_uai",
]
CHAMPS_IDENTITE = ["raison_sociale", "siret", "nda"]
CHAMPS_LIEU = ["denomination", "ligne1", "ligne2", "code_postal", "ville", "code_insee", "siret", "telephone", "email"]

TELEPHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-()]{5,23}$")
CODE_POSTAL_RE = re.compile(r"^\d{5}$")
UAI_RE = re.compile(r"^\d{7}[A-Z]$")
ANONYME_DOMAINE = "anonyme.invalid"


# --- helpers -------------------------------------------------------------------------------


def _str(value) -> str:
    return ("" if value is None else str(value)).strip()


def _set_history_user(instance, user):
    instance._history_user = user


def _raise_if(errors: dict):
    if errors:
        raise ValidationError(errors)


def commune_par_code(code_insee: str) -> Commune:
    """The commune of the COG for a code INSEE, or a ValidationError keyed on code_insee."""
    code = _str(code_insee).upper()
    if not code:
        raise ValidationError({"code_insee": "Indiquez le code INSEE de la commune."})
    if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code):
        raise ValidationError(
            {"code_insee": f"« {code} » n'est pas un code INSEE de commune : il comporte 5 caractères (ex. 45234)."}
        )
    commune = Commune.objects.filter(code_insee=code).first()
    if commune is None:
        raise ValidationError(
            {"code_insee": f"La commune de code INSEE « {code} » est inconnue : vérifiez le code de la commune."}
        )
    return commune


def _valider_adresse(donnees: dict, errors: dict) -> Commune | None:
    """Checks an address (LHEO adresse) and returns its commune; fills `errors`."""
    if not _str(donnees.get("ligne1")):
        errors["ligne1"] = "L'adresse est obligatoire."
    if not _str(donnees.get("ville")):
        errors["ville"] = "La ville est obligatoire."
    code_postal = _str(donnees.get("code_postal"))
    if not CODE_POSTAL_RE.fullmatch(code_postal):
        errors["code_postal"] = "Le code postal doit comporter 5 chiffres."
    try:
        if not _str(donnees.get("code_insee")) and "code_postal" not in errors:
            return commune_par_code_postal(code_postal, _str(donnees.get("ville")))
        return commune_par_code(donnees.get("code_insee"))
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        return None


def _sans_accents(texte: str) -> str:
    decomposed = unicodedata.normalize("NFKD", texte or "")
    simple = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", simple).strip()


def commune_par_code_postal(code_postal: str, ville: str) -> Commune:
    """The commune when the code INSEE is left empty: the one with this code postal (and this name if several)."""
    prefixe = "2" if code_postal.startswith("20") else code_postal[:2]
    candidates = [
        c
        for c in Commune.objects.filter(departement__startswith=prefixe, actuelle=True).order_by("nom")
        if code_postal in (c.codes_postaux or [])
    ]
    if len(candidates) > 1:
        nom = _sans_accents(ville)
        candidates = [c for c in candidates if _sans_accents(c.nom) == nom] or candidates
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValidationError(
            {"code_insee": f"Aucune commune connue n'a le code postal « {code_postal} » : indiquez le code INSEE."}
        )
    liste = ", ".join(f"{c.nom} ({c.code_insee})" for c in candidates[:10])
    raise ValidationError(
        {"code_insee": f"Plusieurs communes ont le code postal « {code_postal} » : {liste}. Indiquez le code INSEE."}
    )


def _appliquer_adresse(instance, donnees: dict, commune: Commune):
    instance.ligne1 = _str(donnees.get("ligne1"))
    instance.ligne2 = _str(donnees.get("ligne2"))
    instance.code_postal = _str(donnees.get("code_postal"))
    instance.ville = _str(donnees.get("ville"))
    instance.commune = commune
    instance.code_insee = commune.code_insee
    instance.departement = commune.departement
    instance.region = commune.region


def _valider_contact_fields(donnees: dict, errors: dict):
    telephone = _str(donnees.get("telephone"))
    if telephone and not TELEPHONE_RE.fullmatch(telephone):
        errors["telephone"] = "Ce numéro de téléphone n'est pas valide (ex. 02 38 00 00 00)."
    email = _str(donnees.get("email"))
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = "Cette adresse e-mail n'est pas valide."


# --- fiche organisme -----------------------------------------------------------------------


def organisme_modifier(*, organisme: Organisme, par: User, donnees: dict) -> Organisme:
    """Applies the non-identity fields of the fiche at once (recorded in the audit trail)."""
    errors: dict = {}
    commune = _valider_adresse(donnees, errors)
    _valider_contact_fields(donnees, errors)
    site_web = _str(donnees.get("site_web"))
    if site_web:
        try:
            URLValidator(schemes=["http", "https"])(site_web)
        except ValidationError:
            errors["site_web"] = "Cette adresse de site internet n'est pas valide (ex. https://www.exemple.fr)."
    code_uai = _str(donnees.get("code_uai")).upper()
    if code_uai and not UAI_RE.fullmatch(code_uai):
        errors["code_uai"] = "Le code UAI comporte 7 chiffres suivis d'une lettre (ex. 0451234A)."
    for field, max_length in [("nom", 250), ("sigle", 50), ("ligne1", 50), ("ligne2", 50), ("ville", 50)]:
        if len(_str(donnees.get(field))) > max_length:
            errors[field] = f"Ce champ ne doit pas dépasser {max_length} caractères."
    _raise_if(errors)

    with transaction.atomic():
        organisme = Organisme.objects.select_for_update().get(pk=organisme.pk)
        organisme.nom = _str(donnees.get("nom"))
        organisme.sigle = _str(donnees.get("sigle"))
        _appliquer_adresse(organisme, donnees, commune)
        organisme.telephone = _str(donnees.get("telephone"))
        organisme.email = _str(donnees.get("email")).lower()
        organisme.site_web = site_web
        organisme.description = _str(donnees.get("description"))
        organisme.code_uai = code_uai
        _set_history_user(organisme, par)
        organisme.save()
    return organisme


def _valider_identite(*, organisme: Organisme, raison_sociale, siret, nda) -> dict:
    errors: dict = {}
    valeurs = {"raison_sociale": _str(raison_sociale)}
    if not valeurs["raison_sociale"]:
        errors["raison_sociale"] = "La raison sociale est obligatoire."
    elif len(valeurs["raison_sociale"]) > 250:
        errors["raison_sociale"] = "La raison sociale ne doit pas dépasser 250 caractères."
    try:
        valeurs["siret"] = normaliser_siret(siret)
        if Organisme.objects.filter(siret=valeurs["siret"]).exclude(pk=organisme.pk).exists():
            errors["siret"] = "Ce SIRET est déjà celui d'un autre organisme enregistré dans OFeli."
    except ValidationError as exc:
        errors["siret"] = exc.messages[0]
    valeurs["nda"] = ""
    if _str(nda):
        try:
            valeurs["nda"] = normaliser_nda(nda)
            if Organisme.objects.filter(nda=valeurs["nda"]).exclude(pk=organisme.pk).exists():
                errors["nda"] = "Ce numéro de déclaration d'activité est déjà celui d'un autre organisme."
        except ValidationError as exc:
            errors["nda"] = exc.messages[0]
    _raise_if(errors)
    return valeurs


def demande_identite_creer(
    *, organisme: Organisme, par: User, raison_sociale: str, siret: str, nda: str = "", justification: str = ""
) -> DemandeModificationIdentite:
    """An OF manager asks to change raison sociale / SIRET / NDA; the GIP decides."""
    valeurs = _valider_identite(organisme=organisme, raison_sociale=raison_sociale, siret=siret, nda=nda)
    with transaction.atomic():
        organisme = Organisme.objects.select_for_update().get(pk=organisme.pk)
        if organisme.demandes_identite.filter(statut=DemandeModificationIdentite.Statut.EN_ATTENTE).exists():
            raise ValidationError(
                {"__all__": "Une demande de modification est déjà en attente : l'équipe offre doit d'abord la traiter."}
            )
        if (
            valeurs["raison_sociale"] == organisme.raison_sociale
            and valeurs["siret"] == organisme.siret
            and valeurs["nda"] == (organisme.nda or "")
        ):
            raise ValidationError({"__all__": "Vous n'avez modifié ni la raison sociale, ni le SIRET, ni le NDA."})
        demande = DemandeModificationIdentite(
            organisme=organisme,
            raison_sociale=valeurs["raison_sociale"],
            siret=valeurs["siret"],
            nda=valeurs["nda"],
            ancienne_raison_sociale=organisme.raison_sociale,
            ancien_siret=organisme.siret,
            ancien_nda=organisme.nda or "",
            justification=_str(justification),
            demandee_par=par,
        )
        _set_history_user(demande, par)
        demande.save()
        send_templated_email(
            to=current_region().gip.email,
            template_base="organismes/email/demande_identite_creee",
            context={"demande": demande, "organisme": organisme},
        )
    return demande


def _demande_en_attente(demande: DemandeModificationIdentite) -> DemandeModificationIdentite:
    demande = DemandeModificationIdentite.objects.select_for_update().get(pk=demande.pk)
    if demande.statut != DemandeModificationIdentite.Statut.EN_ATTENTE:
        raise ValidationError({"__all__": "Cette demande a déjà été traitée."})
    return demande


def demande_identite_accepter(*, demande: DemandeModificationIdentite, par: User) -> DemandeModificationIdentite:
    """The GIP accepts: the new identity is written to the organisme (recorded in its history)."""
    with transaction.atomic():
        demande = _demande_en_attente(demande)
        organisme = Organisme.objects.select_for_update().get(pk=demande.organisme_id)
        # Checked again: another organisme may have taken the SIRET or NDA meanwhile.
        valeurs = _valider_identite(
            organisme=organisme, raison_sociale=demande.raison_sociale, siret=demande.siret, nda=demande.nda
        )
        organisme.raison_sociale = valeurs["raison_sociale"]
        organisme.siret = valeurs["siret"]
        organisme.nda = valeurs["nda"] or None
        _set_history_user(organisme, par)
        organisme._change_reason = f"Demande de modification d'identité n° {demande.pk} acceptée"
        organisme.save()
        demande.statut = DemandeModificationIdentite.Statut.ACCEPTEE
        demande.traitee_par = par
        demande.traitee_at = timezone.now()
        _set_history_user(demande, par)
        demande.save()
        _notifier_decision(demande)
    return demande


def demande_identite_refuser(
    *, demande: DemandeModificationIdentite, par: User, motif: str
) -> DemandeModificationIdentite:
    motif = _str(motif)
    if not motif:
        raise ValidationError({"motif_refus": "Indiquez le motif du refus : il est envoyé à l'organisme."})
    with transaction.atomic():
        demande = _demande_en_attente(demande)
        demande.statut = DemandeModificationIdentite.Statut.REFUSEE
        demande.motif_refus = motif
        demande.traitee_par = par
        demande.traitee_at = timezone.now()
        _set_history_user(demande, par)
        demande.save()
        _notifier_decision(demande)
    return demande


def _notifier_decision(demande: DemandeModificationIdentite):
    if demande.demandee_par.is_active and demande.demandee_par.has_usable_password():
        send_templated_email(
            to=demande.demandee_par.email,
            template_base="organismes/email/demande_identite_traitee",
            context={"demande": demande, "organisme": demande.organisme},
        )


# --- lieux de formation ----------------------------------------------------------------------


def _valider_lieu(donnees: dict) -> tuple[dict, Commune]:
    errors: dict = {}
    commune = _valider_adresse(donnees, errors)
    _valider_contact_fields(donnees, errors)
    siret = ""
    if _str(donnees.get("siret")):
        try:
            siret = normaliser_siret(donnees.get("siret"))
        except ValidationError as exc:
            errors["siret"] = exc.messages[0]
    if len(_str(donnees.get("denomination"))) > 255:
        errors["denomination"] = "La dénomination ne doit pas dépasser 255 caractères."
    _raise_if(errors)
    return {"siret": siret}, commune


def _appliquer_lieu(lieu: Lieu, donnees: dict, commune: Commune, siret: str):
    _appliquer_adresse(lieu, donnees, commune)
    lieu.denomination = _str(donnees.get("denomination"))
    lieu.siret = siret
    lieu.telephone = _str(donnees.get("telephone"))
    lieu.email = _str(donnees.get("email")).lower()


def lieu_creer(*, organisme: Organisme, par: User, donnees: dict) -> Lieu:
    valeurs, commune = _valider_lieu(donnees)
    with transaction.atomic():
        lieu = Lieu(organisme=organisme)
        _appliquer_lieu(lieu, donnees, commune, valeurs["siret"])
        _set_history_user(lieu, par)
        lieu.save()
    return lieu


def lieu_modifier(*, lieu: Lieu, par: User, donnees: dict) -> Lieu:
    valeurs, commune = _valider_lieu(donnees)
    with transaction.atomic():
        lieu = Lieu.objects.select_for_update().get(pk=lieu.pk)
        _appliquer_lieu(lieu, donnees, commune, valeurs["siret"])
        _set_history_user(lieu, par)
        lieu.save()
    return lieu


def lieu_desactiver(*, lieu: Lieu, par: User) -> Lieu:
    """A lieu is never deleted (sessions name it): it is no longer offered for new sessions."""
    return _basculer_actif(Lieu, lieu, par, False)


def lieu_reactiver(*, lieu: Lieu, par: User) -> Lieu:
    return _basculer_actif(Lieu, lieu, par, True)


def _basculer_actif(model, instance, par, actif: bool):
    with transaction.atomic():
        instance = model.objects.select_for_update().get(pk=instance.pk)
        if instance.actif != actif:
            instance.actif = actif
            _set_history_user(instance, par)
            instance.save()
    return instance


# --- organismes formateurs -------------------------------------------------------------------


def _valider_formateur(*, organisme: Organisme, siret, raison_sociale, exclure_pk=None) -> dict:
    errors: dict = {}
    valeurs = {"raison_sociale": _str(raison_sociale), "siret": "", "organisme_connu": None}
    try:
        valeurs["siret"] = normaliser_siret(siret)
    except ValidationError as exc:
        errors["siret"] = exc.messages[0]
    if valeurs["siret"]:
        if valeurs["siret"] == organisme.siret:
            errors["siret"] = (
                "C'est le SIRET de votre propre organisme : un organisme formateur est un autre organisme."
            )
        elif (
            OrganismeFormateur.objects.filter(organisme=organisme, siret=valeurs["siret"])
            .exclude(pk=exclure_pk)
            .exists()
        ):
            errors["siret"] = "Cet organisme formateur est déjà dans votre liste."
        valeurs["organisme_connu"] = Organisme.objects.filter(siret=valeurs["siret"]).first()
    if not valeurs["raison_sociale"] and valeurs["organisme_connu"]:
        valeurs["raison_sociale"] = valeurs["organisme_connu"].raison_sociale
    if not valeurs["raison_sociale"]:
        errors.setdefault("raison_sociale", "La raison sociale est obligatoire.")
    elif len(valeurs["raison_sociale"]) > 250:
        errors["raison_sociale"] = "La raison sociale ne doit pas dépasser 250 caractères."
    _raise_if(errors)
    return valeurs


def formateur_creer(*, organisme: Organisme, par: User, siret: str, raison_sociale: str = "") -> OrganismeFormateur:
    """Adds an organisme formateur; linked to the Organisme of OFeli with the same SIRET, if any."""
    valeurs = _valider_formateur(organisme=organisme, siret=siret, raison_sociale=raison_sociale)
    with transaction.atomic():
        formateur = OrganismeFormateur(organisme=organisme, **valeurs)
        _set_history_user(formateur, par)
        formateur.save()
    return formateur


def formateur_modifier(
    *, formateur: OrganismeFormateur, par: User, siret: str, raison_sociale: str = ""
) -> OrganismeFormateur:
    valeurs = _valider_formateur(
        organisme=formateur.organisme, siret=siret, raison_sociale=raison_sociale, exclure_pk=formateur.pk
    )
    with transaction.atomic():
        formateur = OrganismeFormateur.objects.select_for_update().get(pk=formateur.pk)
        for key, value in valeurs.items():
            setattr(formateur, key, value)
        _set_history_user(formateur, par)
        formateur.save()
    return formateur


def formateur_desactiver(*, formateur: OrganismeFormateur, par: User) -> OrganismeFormateur:
    return _basculer_actif(OrganismeFormateur, formateur, par, False)


def formateur_reactiver(*, formateur: OrganismeFormateur, par: User) -> OrganismeFormateur:
    return _basculer_actif(OrganismeFormateur, formateur, par, True)


# --- contacts ----------------------------------------------------------------------------


def _gestionnaires_restants(organisme_id: int, sauf: Contact) -> int:
    return (
        Contact.objects.filter(organisme_id=organisme_id, actif=True, peut_gerer=True, user__is_active=True)
        .exclude(pk=sauf.pk)
        .count()
    )


def _verrouiller_organisme(organisme_id: int):
    """Serialises the changes of one OF's contacts, so two managers cannot remove each other at once."""
    Organisme.objects.select_for_update().filter(pk=organisme_id).first()


def contact_inviter(
    *,
    organisme: Organisme,
    par: User,
    email: str,
    first_name: str,
    last_name: str,
    civilite: str = "",
    telephone: str = "",
    fonction: str = "",
    peut_gerer: bool = False,
    peut_saisir: bool = False,
    consentement: bool = False,
) -> Contact:
    """Adds a contact to an OF and sends them an activation key (or a notice if they already have an account).

    A new e-mail creates the User (unusable password until activation). A person who is already
    a contact of another OF becomes a contact of this one too (a group of providers).
    """
    email = _str(email).lower()
    errors: dict = {}
    try:
        EmailValidator()(email)
    except ValidationError:
        errors["email"] = "Cette adresse e-mail n'est pas valide."
    if not _str(last_name):
        errors["last_name"] = "Le nom est obligatoire."
    if not _str(first_name):
        errors["first_name"] = "Le prénom est obligatoire."
    if len(_str(first_name)) > 50:
        errors["first_name"] = "Le prénom ne doit pas dépasser 50 caractères."
    if len(_str(last_name)) > 50:
        errors["last_name"] = "Le nom ne doit pas dépasser 50 caractères."
    _valider_contact_fields({"telephone": telephone}, errors)
    if not consentement:
        errors["consentement"] = (
            "Cochez cette case pour confirmer que la personne a été informée de la politique de gestion "
            "des données personnelles et qu'elle y consent."
        )
    _raise_if(errors)

    from ofeli.accounts.services import cle_activation_envoyer

    with transaction.atomic():
        _verrouiller_organisme(organisme.pk)
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is not None:
            existing = Contact.objects.filter(user=user, organisme=organisme).first()
            if existing is not None:
                message = "Cette personne est déjà un contact de votre organisme."
                if not existing.actif:
                    message = (
                        "Cette personne est déjà un contact (désactivé) de votre organisme : "
                        "réactivez-la depuis la liste des contacts."
                    )
                raise ValidationError({"email": message})
            if user.is_staff:
                raise ValidationError({"email": "Cette adresse est celle d'un membre de l'équipe offre du GIP."})
            if not user.is_active:
                raise ValidationError(
                    {"email": "Le compte de cette adresse est désactivé : contactez l'équipe offre du GIP."}
                )
            nouveau = False
        else:
            user = User(
                email=email,
                first_name=_str(first_name),
                last_name=_str(last_name),
                civilite=_str(civilite),
                telephone=_str(telephone),
            )
            user.set_unusable_password()
            _set_history_user(user, par)
            user.save()
            nouveau = True
        contact = Contact(
            user=user,
            organisme=organisme,
            fonction=_str(fonction)[:100],
            peut_gerer=bool(peut_gerer),
            peut_saisir=bool(peut_saisir),
            consentement_at=timezone.now(),
        )
        _set_history_user(contact, par)
        contact.save()
        if nouveau or not user.has_usable_password():
            cle_activation_envoyer(user=user, organisme=organisme, envoyee_par=par, invitation=True)
        else:
            send_templated_email(
                to=user.email,
                template_base="organismes/email/contact_ajoute",
                context={"contact": contact, "organisme": organisme, "par": par},
            )
    return contact


def contact_modifier_droits(
    *, contact: Contact, par: User, peut_gerer: bool, peut_saisir: bool, fonction: str | None = None
) -> Contact:
    """Changes a contact's rights in one OF. The last active manager keeps the right to manage."""
    with transaction.atomic():
        _verrouiller_organisme(contact.organisme_id)
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        peut_gerer = bool(peut_gerer)
        if (
            contact.actif
            and contact.peut_gerer
            and not peut_gerer
            and _gestionnaires_restants(contact.organisme_id, contact) == 0
        ):
            raise ValidationError(
                {
                    "peut_gerer": (
                        "Ce contact est le dernier à pouvoir gérer l'organisme et ses contacts : donnez d'abord "
                        "ce droit à un autre contact."
                    )
                }
            )
        contact.peut_gerer = peut_gerer
        contact.peut_saisir = bool(peut_saisir)
        if fonction is not None:
            contact.fonction = _str(fonction)[:100]
        _set_history_user(contact, par)
        contact.save()
    return contact


def contact_desactiver(*, contact: Contact, par: User) -> Contact:
    """Ends a person's access to one OF; the contact row and its history are kept."""
    with transaction.atomic():
        _verrouiller_organisme(contact.organisme_id)
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if not contact.actif:
            return contact
        if contact.peut_gerer and _gestionnaires_restants(contact.organisme_id, contact) == 0:
            raise ValidationError(
                {
                    "__all__": (
                        "Ce contact est le dernier à pouvoir gérer l'organisme et ses contacts : il ne peut pas être "
                        "désactivé. Donnez d'abord ce droit à un autre contact."
                    )
                }
            )
        contact.actif = False
        _set_history_user(contact, par)
        contact.save()
    return contact


def contact_reactiver(*, contact: Contact, par: User) -> Contact:
    with transaction.atomic():
        contact = Contact.objects.select_for_update().select_related("user").get(pk=contact.pk)
        if contact.user.anonymised_at or not contact.user.is_active:
            raise ValidationError({"__all__": "Ce contact a été anonymisé ou son compte est désactivé."})
        if not contact.actif:
            contact.actif = True
            _set_history_user(contact, par)
            contact.save()
    return contact


def contact_anonymiser(*, contact: Contact, par: User) -> User:
    """The GIP anonymises a former contact: name, e-mail and phone replaced, account closed.

    Only a person with no active contact left may be anonymised. The offer they entered is
    kept (it points to the same, now anonymous, user); their personal data are also removed
    from the audit trail's past rows, and the anonymisation is recorded there.
    """
    if not par.is_staff:
        raise ValidationError({"__all__": "Seule l'équipe offre du GIP peut anonymiser un contact."})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=contact.user_id)
        if user.anonymised_at:
            raise ValidationError({"__all__": "Ce contact est déjà anonymisé."})
        if user.is_staff:
            raise ValidationError({"__all__": "Un membre de l'équipe offre ne s'anonymise pas ici."})
        actifs = list(Contact.objects.filter(user=user, actif=True).select_related("organisme"))
        if actifs:
            noms = ", ".join(str(c.organisme) for c in actifs)
            raise ValidationError(
                {"__all__": f"Désactivez d'abord ce contact dans tous ses organismes (encore actif pour : {noms})."}
            )
        anonyme = {
            "email": f"anonyme-{user.pk}-{secrets.token_hex(4)}@{ANONYME_DOMAINE}",
            "first_name": "",
            "last_name": "Contact anonymisé",
            "telephone": "",
            "civilite": "",
        }
        ancien_email = user.email
        user.history.all().update(**anonyme)
        _anonymiser_demandes_compte(ancien_email, anonyme["email"])
        for key, value in anonyme.items():
            setattr(user, key, value)
        user.is_active = False
        user.set_unusable_password()
        user.anonymised_at = timezone.now()
        _set_history_user(user, par)
        user._change_reason = "Anonymisation (données personnelles)"
        user.save()
        for former in Contact.objects.select_for_update().filter(user=user):
            former.history.all().update(fonction="")
            if former.fonction:
                former.fonction = ""
                _set_history_user(former, par)
                former._change_reason = "Anonymisation (données personnelles)"
                former.save()
    return user


def _anonymiser_demandes_compte(ancien_email: str, email_anonyme: str) -> None:
    """The account requests the person made keep the organisme's data, not the person's (nor in their history)."""
    from ofeli.accounts.models import DemandeCompte

    personne = {"nom": "Contact anonymisé", "prenom": "", "email": email_anonyme, "telephone": ""}
    demandes = DemandeCompte.objects.filter(email__iexact=ancien_email)
    DemandeCompte.history.filter(id__in=demandes.values("pk")).update(**personne)
    DemandeCompte.history.filter(email__iexact=ancien_email).update(**personne)
    demandes.update(**personne)


# --- personal data ------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def mes_donnees(*, user: User) -> dict:
    """Everything OFeli keeps about a person, as the JSON they may download (RGPD, right of access)."""
    from ofeli.offre.models import Formation

    contacts = Contact.objects.filter(user=user).select_related("organisme").order_by("created_at")
    return {
        "compte": {
            "adresse_email": user.email,
            "civilite": user.get_civilite_display(),
            "prenom": user.first_name,
            "nom": user.last_name,
            "telephone": user.telephone,
            "cree_le": _iso(user.date_joined),
            "derniere_connexion": _iso(user.last_login),
            "actif": user.is_active,
        },
        "contacts": [
            {
                "organisme": c.organisme.raison_sociale,
                "siret_organisme": c.organisme.siret,
                "fonction": c.fonction,
                "droits": {
                    "gerer_organisme_et_contacts": c.peut_gerer,
                    "saisir_offre": c.peut_saisir,
                    "consulter": True,
                },
                "actif": c.actif,
                "consentement_donnees_personnelles_le": _iso(c.consentement_at),
                "cree_le": _iso(c.created_at),
            }
            for c in contacts
        ],
        "historique_du_compte": [
            {
                "date": _iso(h.history_date),
                "type": h.get_history_type_display(),
                "par": str(h.history_user) if h.history_user_id else None,
                "motif": h.history_change_reason,
            }
            for h in user.history.select_related("history_user").order_by("history_date")
        ],
        "formations_creees": [
            {"intitule": f.intitule, "organisme": str(f.organisme), "creee_le": _iso(f.created_at)}
            for f in Formation.objects.filter(created_by=user).select_related("organisme").order_by("created_at")
        ],
        "demandes_de_modification_identite": [
            {
                "organisme": str(d.organisme),
                "demandee_le": _iso(d.demandee_at),
                "statut": d.get_statut_display(),
            }
            for d in DemandeModificationIdentite.objects.filter(demandee_par=user).select_related("organisme")
        ],
    }
