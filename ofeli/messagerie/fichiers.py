"""Checks of an uploaded attachment: its type is read from its first bytes, never trusted from the name.

Accepted: PDF, PNG, JPEG, GIF, WebP. Size limited by settings.OFELI_MAX_ATTACHMENT_SIZE.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from ofeli.core.fichiers import type_du_contenu, verifier_taille

MAX_PIECES_PAR_MESSAGE = 5

TYPES_ACCEPTES = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp")


@dataclass(frozen=True)
class FichierVerifie:
    fichier: object
    nom_original: str
    content_type: str
    extension: str
    taille: int


def verifier_piece(fichier) -> FichierVerifie:
    """Returns the checked file, or raises ValidationError with a French message."""
    nom = (getattr(fichier, "name", "") or "fichier").rsplit("/", 1)[-1][:255]
    taille = verifier_taille(fichier, nom=nom)
    detected = type_du_contenu(fichier, TYPES_ACCEPTES)
    if detected is None:
        raise ValidationError(
            f"Le fichier « {nom} » n'est ni un PDF ni une image (PNG, JPEG, GIF, WebP) : il n'a pas été envoyé.",
            code="type",
        )
    return FichierVerifie(
        fichier=fichier, nom_original=nom, content_type=detected[0], extension=detected[1], taille=taille
    )


def verifier_pieces(fichiers) -> list[FichierVerifie]:
    fichiers = list(fichiers or ())
    if len(fichiers) > MAX_PIECES_PAR_MESSAGE:
        raise ValidationError(
            f"Vous pouvez joindre au plus {MAX_PIECES_PAR_MESSAGE} fichiers par message.", code="nombre"
        )
    erreurs, verifies = [], []
    for fichier in fichiers:
        try:
            verifies.append(verifier_piece(fichier))
        except ValidationError as exc:
            erreurs.extend(exc.messages)
    if erreurs:
        raise ValidationError(erreurs)
    return verifies
