"""Text helpers for LHEO: characters XML 1.0 allows, lengths the XSD allows, LHEO dates."""

import datetime
import re
from decimal import Decimal

# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF): lxml refuses them.
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(value) -> str:
    """The value as text XML can carry: invalid characters removed, surrounding blanks stripped."""
    if not value:
        return "" if value is None or value == "" else _INVALID_XML.sub("", str(value)).strip()
    return _INVALID_XML.sub("", str(value)).strip()


def fit(value, max_length: int) -> str:
    """Cleans `value` and cuts it to `max_length` characters (the XSD bound), ending with "…" when cut."""
    text = clean_text(value)
    if len(text) > max_length:
        return text[: max_length - 1].rstrip() + "…"
    return text


def date_lheo(value: datetime.date | None, *, unknown: str = "00000000") -> str:
    """AAAAMMJJ; `unknown` (00000000 for a start, 99999999 for an end) when the date is missing."""
    if value is None:
        return unknown
    return _date_iso(value).replace("-", "")


_date_iso = datetime.date.isoformat


def price_lheo(value: Decimal | None, max_length: int) -> str:
    """A price in euros as LHEO text ("1250.5", "12.5"), within the XSD length; "" when missing."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    if len(text) > max_length:
        text = format(value.quantize(Decimal(1)), "f")
    return text if len(text) <= max_length else ""
