"""Validates an LHEO file against the official XSD shipped in ofeli/lheo/schema/ (see PROVENANCE.md).

The schema is chosen by the root's namespace (2.3, or 2.2 for older feeds). The file is streamed: every
<formation> but the first is validated on its own (a global element of the XSD) and dropped, then the rest of the
document (root, <offres>, the first formation, extras) is validated whole. Memory stays bounded whatever the size,
and every error is reported with its line. The parsing is the hardened one of ofeli.lheo.safe (no DTD, no
entities, no network).

Messages are French: lxml's (libxml2's) wording is translated for the frequent cases and kept otherwise.
"""

import dataclasses
import re
from functools import cache

from lxml import etree

from . import NAMESPACES, NS_22, NS_23, SCHEMAS, LheoError
from .safe import PARSER_OPTIONS, safe_iterparse


@dataclasses.dataclass(frozen=True)
class ErreurLheo:
    ligne: int | None
    message: str
    original: str = ""

    def __str__(self) -> str:
        return f"Ligne {self.ligne} : {self.message}" if self.ligne else self.message


@cache
def schema_for(namespace: str = NS_23) -> etree.XMLSchema:
    parser = etree.XMLParser(**PARSER_OPTIONS)
    return etree.XMLSchema(etree.parse(str(SCHEMAS[namespace]), parser))


_NS_RE = re.compile(rf"\{{(?:{re.escape(NS_23)}|{re.escape(NS_22)})\}}")

_TRANSLATIONS = [
    (
        re.compile(r"^Element '([^']+)': This element is not expected\. Expected is one of \( (.+) \)\.$"),
        "élément « {0} » inattendu à cet endroit ; attendu : l'un de {1}",
    ),
    (
        re.compile(r"^Element '([^']+)': This element is not expected\. Expected is \( (.+) \)\.$"),
        "élément « {0} » inattendu à cet endroit ; attendu : {1}",
    ),
    (re.compile(r"^Element '([^']+)': This element is not expected\.$"), "élément « {0} » inattendu à cet endroit"),
    (
        re.compile(r"^Element '([^']+)': Missing child element\(s\)\. Expected is one of \( (.+) \)\.$"),
        "élément « {0} » incomplet : il manque l'un de {1}",
    ),
    (
        re.compile(r"^Element '([^']+)': Missing child element\(s\)\. Expected is \( (.+) \)\.$"),
        "élément « {0} » incomplet : il manque {1}",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'minLength'\] The value (?:'(.*)' )?has a length of '(\d+)'; "
            r"this underruns the allowed minimum length of '(\d+)'\.$",
            re.S,
        ),
        "élément « {0} » : la valeur « {1} » est trop courte ({2} caractères, minimum {3})",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'maxLength'\] The value (?:'(.*)' )?has a length of '(\d+)'; "
            r"this exceeds the allowed maximum length of '(\d+)'\.$",
            re.S,
        ),
        "élément « {0} » : la valeur est trop longue ({2} caractères, maximum {3})",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'length'\] The value (?:'(.*)' )?has a length of '(\d+)'; "
            r"this differs from the allowed length of '(\d+)'\.$",
            re.S,
        ),
        "élément « {0} » : la valeur « {1} » doit faire exactement {3} caractères (et non {2})",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'enumeration'\] The value '(.*)' is not an element of the set (.+)\.$"
        ),
        "élément « {0} » : la valeur « {1} » n'est pas un code autorisé (codes possibles : {2})",
    ),
    (
        re.compile(
            r"^Element '([^']+)': \[facet 'pattern'\] The value '(.*)' is not accepted by the pattern '(.+)'\.$"
        ),
        "élément « {0} » : la valeur « {1} » n'a pas le format attendu (motif {2})",
    ),
    (
        re.compile(r"^Element '([^']+)': '(.*)' is not a valid value of the atomic type '(.+)'\.$"),
        "élément « {0} » : « {1} » n'est pas une valeur valide du type {2}",
    ),
    (
        re.compile(r"^Element '([^']+)': '(.*)' is not a valid value of the local atomic type\.$"),
        "élément « {0} » : « {1} » n'est pas une valeur valide",
    ),
    (
        re.compile(r"^Element '([^']+)', attribute '([^']+)': The attribute '[^']+' is not allowed\.$"),
        "élément « {0} » : l'attribut « {1} » n'est pas autorisé",
    ),
    (
        re.compile(r"^Element '([^']+)': No matching global declaration available for the validation root\.$"),
        "l'élément racine « {0} » n'est pas un élément LHEO",
    ),
]


def traduire(message: str) -> str:
    """French wording around a libxml2 schema message (kept as is when not recognised)."""
    message = _NS_RE.sub("", message.strip())
    for pattern, template in _TRANSLATIONS:
        if match := pattern.match(message):
            return template.format(*(group or "" for group in match.groups()))
    return f"non conforme au schéma LHEO : {message}"


def _errors(error_log) -> list[ErreurLheo]:
    return [ErreurLheo(entry.line or None, traduire(entry.message), entry.message) for entry in error_log]


def valider_lheo(source) -> list[ErreurLheo]:
    """The errors of an LHEO file (path or binary file object) against the shipped XSD; [] when valid.

    A file that is not well-formed or is refused for security (DOCTYPE) gives one error, with its line.
    """
    errors: list[ErreurLheo] = []
    formation_tags = tuple(f"{{{ns}}}formation" for ns in NAMESPACES)
    offres_tags = {f"{{{ns}}}offres" for ns in NAMESPACES}
    root = None
    namespace = None
    first_kept = False
    try:
        for _event, element in safe_iterparse(source, tag=formation_tags):
            if root is None:
                root = element.getroottree().getroot()
                namespace = etree.QName(root).namespace
                if namespace not in NAMESPACES:
                    break
            parent = element.getparent()
            if parent is None or parent.tag not in offres_tags:
                continue  # validated with the whole document at the end
            if not first_kept:
                first_kept = True  # idem
                continue
            schema = schema_for(namespace)
            if not schema.validate(element):
                errors.extend(_errors(schema.error_log))
            element.clear()
            parent.remove(element)
    except LheoError as exc:
        return [ErreurLheo(exc.line, exc.message)]

    if root is None:
        # No formation at all: parse the (then small) document to report what it lacks.
        try:
            if hasattr(source, "seek"):
                source.seek(0)
            for _event, element in safe_iterparse(source, events=("end",)):
                root = element
        except LheoError as exc:
            return [ErreurLheo(exc.line, exc.message)]
        if root is None:
            return [ErreurLheo(None, "le fichier est vide")]
        namespace = etree.QName(root).namespace
    if namespace not in NAMESPACES:
        return [
            ErreurLheo(
                root.sourceline,
                f"espace de noms « {namespace or 'aucun'} » inconnu : un fichier LHEO déclare "
                f'xmlns="{NS_23}" (LHEO 2.3) ou xmlns="{NS_22}" (LHEO 2.2)',
            )
        ]
    schema = schema_for(namespace)
    if not schema.validate(root.getroottree()):
        errors.extend(_errors(schema.error_log))
    return sorted(errors, key=lambda e: e.ligne or 0)
