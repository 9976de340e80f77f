"""Attachments (pièces jointes): PDF or image only, checked by content, size-limited, private storage.

The file's type is read from its first bytes (filetype), never from its name or the browser's
content type. Files are stored under a random name in the default storage, which settings point
outside anything served directly (design note 7); ofeli.offre.views.piece_jointe serves them
through the gate.
"""

import uuid

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

TYPES_ACCEPTES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}


def verifier_fichier(fichier) -> str:
    """Returns the content type read from the file's bytes, or raises ValidationError in French."""
    if fichier.size == 0:
        raise ValidationError("Le fichier est vide.", code="vide")
    maximum = settings.OFELI_MAX_ATTACHMENT_SIZE
    if fichier.size > maximum:
        raise ValidationError(
            f"Le fichier dépasse la taille maximale autorisée ({filesizeformat(maximum)}).", code="taille"
        )
    fichier.seek(0)
    entete = fichier.read(8192)
    fichier.seek(0)
    genre = filetype.guess(entete)
    if genre is None or genre.mime not in TYPES_ACCEPTES:
        raise ValidationError(
            "Seuls les fichiers PDF ou les images (JPEG, PNG, WebP) sont acceptés : le contenu de ce fichier "
            "ne correspond à aucun de ces formats.",
            code="type",
        )
    return genre.mime


def nom_de_stockage(content_type: str) -> str:
    return f"{uuid.uuid4().hex}.{TYPES_ACCEPTES[content_type]}"
