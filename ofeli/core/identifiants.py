"""Checks of the identifiers OFs give: SIRET (python-stdnum), NDA, code INSEE.

Each function returns the normalised value or raises ValidationError with a French message.
"""

import re

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.fr import siret as stdnum_siret


def normaliser_siret(value: str) -> str:
    compact = re.sub(r"[\s.\-]", "", value or "")
    if not compact:
        raise ValidationError("Le SIRET est obligatoire.", code="siret_required")
    if not compact.isdigit() or len(compact) != 14:
        raise ValidationError("Le SIRET doit comporter exactement 14 chiffres.", code="siret_format")
    try:
        stdnum_siret.validate(compact)
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            "Ce SIRET n'est pas valide (sa clé de contrôle est fausse) : vérifiez les 14 chiffres.",
            code="siret_checksum",
        ) from None
    return compact


def normaliser_nda(value: str) -> str:
    """Numéro de déclaration d'activité: 11 digits, the first two the code of the region of declaration."""
    compact = re.sub(r"[\s.\-]", "", value or "")
    if not compact:
        raise ValidationError("Le numéro de déclaration d'activité est obligatoire.", code="nda_required")
    if not compact.isdigit() or len(compact) != 11:
        raise ValidationError(
            "Le numéro de déclaration d'activité doit comporter exactement 11 chiffres.", code="nda_format"
        )
    return compact


def region_du_nda(nda: str) -> str:
    return nda[:2]
