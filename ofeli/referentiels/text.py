"""Text normalisation shared by the referentials' search column and the autocomplete queries."""

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normaliser(texte: str) -> str:
    """Lower case, no accents, words separated by one space: "Saint-Jean-de-Bray" -> "saint jean de bray"."""
    decomposed = unicodedata.normalize("NFKD", texte or "")
    sans_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    sans_accents = sans_accents.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    return _NON_ALNUM.sub(" ", sans_accents.lower()).strip()


def mots(texte: str) -> list[str]:
    return [m for m in normaliser(texte).split(" ") if m]
