"""What an uploaded file really is: read from its first bytes (filetype), never from its name.

Every upload of the project (attachments of the offer, of messages, conventions of account
requests) goes through `type_du_contenu` and `verifier_taille`; each app words its own messages.
"""

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

PDF = "application/pdf"
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def type_du_contenu(fichier, acceptes) -> tuple[str, str] | None:
    """(content type, extension on disk) when the file's bytes are one of `acceptes`, else None."""
    fichier.seek(0)
    entete = fichier.read(8192)
    fichier.seek(0)
    genre = filetype.guess(entete)
    if genre is None or genre.mime not in acceptes:
        return None
    return genre.mime, EXTENSIONS[genre.mime]


def verifier_taille(fichier, *, nom: str = "") -> int:
    """The file's size, or ValidationError (codes "vide", "taille") when empty or over the limit."""
    quel = f"Le fichier « {nom} »" if nom else "Le fichier"
    maximum = settings.OFELI_MAX_ATTACHMENT_SIZE
    if fichier.size == 0:
        raise ValidationError(f"{quel} est vide.", code="vide")
    if fichier.size > maximum:
        raise ValidationError(f"{quel} dépasse la taille maximale de {filesizeformat(maximum)}.", code="taille")
    return fichier.size
