"""LHEO `extras` (cercle 3) and other elements OFeli does not model, kept as JSON-ready data.

A node is a plain dict ``{"tag": str, "attrs": {name: value}, "text": str, "children": [node], "tail": str}``:
tag without namespace, attributes as they came, mixed content kept (text before the first child, each child's
tail). The reader returns them; the writer writes them back unchanged from ``obj.extras["lheo"]`` (the JSON
field of Formation, Action, Session), so what a partner sent is never dropped.

OFeli's own extras are written as ``<extras info="ofeli"><extra info="dispositif">aif</extra>...</extras>``:
values that LHEO has no element for (dispositif, numéro de marché, source, état...). The reader turns those
back into fields, not into nodes.
"""

from lxml import etree

from .text import clean_text

OFELI_INFO = "ofeli"


def _local(tag) -> str:
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def node_from_element(element) -> dict:
    return {
        "tag": _local(element.tag),
        "attrs": dict(element.attrib),
        "text": element.text if element.text and element.text.strip() else "",
        "children": [node_from_element(child) for child in element if isinstance(child.tag, str)],
        "tail": element.tail.strip() if element.tail and element.tail.strip() else "",
    }


def append_node(parent, node: dict, namespace: str) -> None:
    """Writes a node (as returned by node_from_element) under `parent` in `namespace`."""
    element = etree.SubElement(parent, f"{{{namespace}}}{node['tag']}")
    for name, value in (node.get("attrs") or {}).items():
        element.set(name, clean_text(str(value)))
    if node.get("text"):
        element.text = clean_text(node["text"])
    for child in node.get("children") or []:
        append_node(element, child, namespace)
    if node.get("tail"):
        element.tail = clean_text(node["tail"])


def stored_nodes(obj) -> list[dict]:
    """The partner extras kept on a model instance (its `extras` JSON field), if any."""
    data = getattr(obj, "extras", None) or {}
    nodes = data.get("lheo") if isinstance(data, dict) else None
    return [n for n in nodes or [] if isinstance(n, dict) and n.get("tag") in {"extras", "extra"}]


def ofeli_values(extras_element) -> dict[str, str]:
    """{info: text} of an <extras info="ofeli"> element."""
    return {
        child.get("info"): (child.text or "")
        for child in extras_element
        if _local(child.tag) == "extra" and child.get("info")
    }
