"""LHEO (Langage Harmonisé d'Échanges d'informations sur l'Offre de formation): writing, reading, validating.

Plain Python, no views. The pieces:

- ``writer``: renders one formation to an lxml element or bytes (``formation_fragment``) and streams a document
  from fragments or from the working tables (``write_formations``); memory stays bounded whatever the size.
- ``reader``: streams an LHEO file (2.2 or 2.3 namespace) into plain dataclasses, keeping unknown extras as data.
- ``validate``: checks a file against the official XSD shipped in ``schema/`` (see schema/PROVENANCE.md).
- ``safe``: the hardened XML parsing shared by the reader and the validator (no DTD, no entities, no network).
"""

from pathlib import Path

NS_23 = "http://lheo.gouv.fr/2.3"
NS_22 = "http://www.lheo.org/2.2"
NAMESPACES = {NS_23: "2.3", NS_22: "2.2"}

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMAS = {NS_23: SCHEMA_DIR / "lheo.xsd", NS_22: SCHEMA_DIR / "2.2" / "lheo.xsd"}

# Formacode version written in @ref of code-FORMACODE / code-public-vise when the data does not say.
FORMACODE_VERSION = "V14"


class LheoError(Exception):
    """A file that cannot be read as LHEO; the message is French and names the line when known."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"Ligne {line} : {message}" if line else message)
