"""Attachments (pièces jointes): PDF or image only, checked by content, size-limited, private storage.

The file's type is read from its first bytes (filetype), never from its name or the browser's
content type. Files are stored under a random name in the default storage, which settings point
outside anything served directly (design note 7); ofeli.offre.views.piece_jointe serves them
through the gate.
"""

import uuid

from django.core.exceptions import ValidationError

from ofeli.core.fichiers import EXTENSIONS, type_du_contenu, verifier_taille

TYPES_ACCEPTES = ("application/pdf", "image/jpeg", "image/png", "image/webp")


def verifier_fichier(fichier) -> str:
    """Returns the content type read from the file's bytes, or raises ValidationError in French."""
    verifier_taille(fichier)
    detecte = type_du_contenu(fichier, TYPES_ACCEPTES)
    if detecte is None:
        raise ValidationError(
            "Seuls les fichiers PDF ou les images (JPEG, PNG, WebP) sont acceptés : le contenu de ce fichier "
            "ne correspond à aucun de ces formats.",
            code="type",
        )
    return detecte[0]


def nom_de_stockage(content_type: str) -> str:
    return f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"
