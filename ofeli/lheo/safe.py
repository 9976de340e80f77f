"""Hardened XML parsing for files that come from outside (uploads, partner feeds, the command line).

LHEO needs no DTD and no entity: a file that declares a DOCTYPE is refused before anything is read from it,
which stops external entities (XXE), entity expansion ("billion laughs") and DTD fetching. The parser never
touches the network, never resolves entities and refuses huge text nodes.
"""

from collections.abc import Iterator

from lxml import etree

from . import LheoError

PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}

MESSAGE_DOCTYPE = (
    "le fichier contient une déclaration DOCTYPE (DTD ou entités) : refusée pour des raisons de sécurité. "
    "Un fichier LHEO n'en a pas besoin ; retirez-la et réessayez."
)


def _check_no_doctype(element) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        raise LheoError(MESSAGE_DOCTYPE, line=1)


def syntax_error(exc: etree.XMLSyntaxError) -> LheoError:
    """A French error for a file that is not well-formed XML."""
    message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
    if "Entity" in message or "entity" in message:
        return LheoError(f"entité XML non autorisée ou non déclarée ({message})", line=exc.lineno)
    return LheoError(f"le fichier n'est pas un XML bien formé ({message})", line=exc.lineno)


def safe_iterparse(source, *, tag=None, events=("end",), schema=None) -> Iterator[tuple[str, etree._Element]]:
    """Like lxml.etree.iterparse with the hardened options; raises LheoError (French) on DOCTYPE or bad XML.

    `source` is a path or a binary file object; `tag` filters in C (a tag or a sequence of tags). The DOCTYPE
    is checked at the first event and again at the end (entities are never resolved in between).
    """
    context = etree.iterparse(source, events=events, tag=tag, schema=schema, **PARSER_OPTIONS)
    checked = False
    try:
        for event, element in context:
            if not checked:
                _check_no_doctype(element)
                checked = True
            yield event, element
        if context.root is not None:
            _check_no_doctype(context.root)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc) from exc
