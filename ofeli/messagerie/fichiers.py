"""Checks of an uploaded attachment: its type is read from its first bytes, never trusted from the name.

Accepted: PDF, PNG, JPEG, GIF, WebP. Size limited by settings.OFELI_MAX_ATTACHMENT_SIZE.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

MAX_PIECES_PAR_MESSAGE = 5

# (content type, the extension used on disk, predicate on the first bytes)
SIGNATURES = [
    ("application/pdf", "pdf", lambda head: head.startswith(b"%PDF-")),
    ("image/png", "png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/gif", "gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", "webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
]


@dataclass(frozen=True)
class FichierVerifie:
    fichier: object
    nom_original: str
    content_type: str
    extension: str
    taille: int


def _type_du_contenu(fichier) -> tuple[str, str] | None:
    fichier.seek(0)
    head = fichier.read(16)
    fichier.seek(0)
    for content_type, extension, matches in SIGNATURES:
        if matches(head):
            return content_type, extension
    return None


def verifier_piece(fichier) -> FichierVerifie:
    """Returns the checked file, or raises ValidationError with a French message."""
    nom = (getattr(fichier, "name", "") or "fichier").rsplit("/", 1)[-1][:255]
    taille = fichier.size
    maximum = settings.OFELI_MAX_ATTACHMENT_SIZE
    if taille == 0:
        raise ValidationError(f"Le fichier « {nom} » est vide.", code="vide")
    if taille > maximum:
        raise ValidationError(
            f"Le fichier « {nom} » dépasse la taille maximale de {filesizeformat(maximum)}.", code="taille"
        )
    detected = _type_du_contenu(fichier)
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
