"""The rules of an account request ("Créer un compte"), with their French messages.

The public form and the staff's acceptance both call them, so that each rule is written once.
Rules that look at several fields return {field: [messages]}.
"""

import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError

from ofeli.core.fichiers import PDF, type_du_contenu
from ofeli.core.identifiants import normaliser_nda, normaliser_siret
from ofeli.core.region import current_region
from ofeli.organismes.models import Organisme
from ofeli.referentiels.models import Commune


def message_deja_inscrit() -> str:
    return (
        f"Votre organisme est déjà enregistré sur OFeli {current_region().nom} : activez votre compte en "
        "cliquant sur « Réinitialiser mon mot de passe »."
    )


def message_demande_en_cours() -> str:
    return (
        f"Une demande de compte est déjà en attente pour cet organisme : l'{current_region().gip.equipe} "
        "la traite et enverra une clé d'activation par e-mail."
    )


def message_convention_requise() -> str:
    nom = current_region().nom
    return (
        f"Votre organisme est situé hors région {nom} : joignez la copie d'une convention de formation "
        f"précisant un lieu de formation en présentiel en région {nom}."
    )


def siret_verifier(value: str) -> str:
    return normaliser_siret(value)


def nda_verifier(value: str) -> str:
    return normaliser_nda(value)


def doublon_verifier(*, nda: str | None, siret: str | None, sauf_demande=None) -> dict[str, list[str]]:
    """An NDA or SIRET already known to OFeli (an organisme, or a pending request) is refused."""
    from .models import DemandeCompte

    erreurs: dict[str, list[str]] = {}
    en_attente = DemandeCompte.objects.filter(statut=DemandeCompte.Statut.EN_ATTENTE)
    if sauf_demande is not None:
        en_attente = en_attente.exclude(pk=sauf_demande.pk)
    for field, value in (("siret", siret), ("nda", nda)):
        if not value:
            continue
        if Organisme.objects.filter(**{field: value}).exists():
            erreurs[field] = [message_deja_inscrit()]
        elif en_attente.filter(**{field: value}).exists():
            erreurs[field] = [message_demande_en_cours()]
    return erreurs


def _normaliser_nom(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "")
    value = "".join(c for c in value if not unicodedata.combining(c)).lower()
    value = re.sub(r"[\s'’\-]+", " ", value).strip()
    return re.sub(r"^(st|ste)\b", lambda m: "saint" if m.group(1) == "st" else "sainte", value)


def departement_du_code_postal(code_postal: str) -> str:
    if code_postal.startswith(("97", "98")):
        return code_postal[:3]
    if code_postal.startswith("20"):
        return "2A" if int(code_postal) < 20200 else "2B"
    return code_postal[:2]


def departement_du_code_insee(code_insee: str) -> str:
    return code_insee[:3] if code_insee.startswith(("97", "98")) else code_insee[:2]


def adresse_resoudre(*, code_postal: str, ville: str, code_insee: str = "") -> tuple[dict, dict[str, list[str]]]:
    """Finds the commune of an address and says whether it lies in the region.

    A code INSEE that is in the referential must match the code postal; without a code INSEE,
    the commune is looked up by code postal and name. An address whose commune is not in the
    referential is kept as typed, its département taken from the code INSEE or the code postal.
    """
    erreurs: dict[str, list[str]] = {}
    code_insee = (code_insee or "").strip().upper()
    commune = None
    if code_insee:
        if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code_insee):
            erreurs["code_insee"] = ["Le code INSEE de la commune comporte 5 caractères (par exemple 45234)."]
        else:
            commune = Commune.objects.filter(code_insee=code_insee).first()
            if commune and commune.codes_postaux and code_postal not in commune.codes_postaux:
                erreurs["code_postal"] = [
                    f"Le code postal {code_postal} ne correspond pas à la commune {commune.nom} ({code_insee}) : "
                    f"codes postaux possibles : {', '.join(commune.codes_postaux)}."
                ]
    elif code_postal and ville:
        wanted = _normaliser_nom(ville)
        candidates = [
            c
            for c in Commune.objects.filter(departement=departement_du_code_postal(code_postal))
            if code_postal in (c.codes_postaux or []) and _normaliser_nom(c.nom) == wanted
        ]
        if len(candidates) == 1:
            commune = candidates[0]
    if commune:
        departement = commune.departement
        code_insee = commune.code_insee
    elif code_insee and "code_insee" not in erreurs:
        departement = departement_du_code_insee(code_insee)
    else:
        departement = departement_du_code_postal(code_postal) if code_postal else ""
    region = current_region()
    adresse = {
        "commune": commune,
        "code_insee": code_insee if "code_insee" not in erreurs else "",
        "departement": departement,
        "region": commune.region if commune else (region.code if region.contient_departement(departement) else ""),
        "hors_region": not region.contient_departement(departement),
    }
    return adresse, erreurs


def pdf_verifier(fichier) -> None:
    """A PDF checked by its content (not its name) and its size."""
    maximum = settings.OFELI_MAX_ATTACHMENT_SIZE
    if fichier.size > maximum:
        raise ValidationError(
            f"Le fichier dépasse la taille maximale de {maximum // (1024 * 1024)} Mo.", code="fichier_trop_gros"
        )
    if type_du_contenu(fichier, (PDF,)) is None:
        raise ValidationError(
            "Le fichier joint n'est pas un PDF : joignez la convention au format PDF.", code="fichier_pas_pdf"
        )
