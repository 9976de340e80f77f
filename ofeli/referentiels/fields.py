"""Form fields for referential codes, used by every form that takes a Formacode, NSF, ROME, RNCP/RS code or a commune.

    formacodes = CodesField(model=Formacode, max=5, label="Formacode")
    certifications = CodesField(model=Certification, max=5, required=False)
    commune = CommuneField(label="Commune")

Without JavaScript the user types codes (separated by commas, semicolons or spaces, or sent as several values);
with JavaScript, ofeli/static/ofeli/autocomplete.js suggests entries from the field's `data-autocomplete` URL.
Unknown codes are refused with a French message that lists them. Templates that render these fields include
`{{ form.media }}` (in the `scripts` block) to load the script.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from .models import NSF, BlocCompetences, Certification, Commune, Formacode, Rome

AUTOCOMPLETE_URLS = {
    Formacode: "referentiels:formacodes",
    NSF: "referentiels:nsf",
    Rome: "referentiels:romes",
    Certification: "referentiels:certifications",
    BlocCompetences: "referentiels:blocs",
    Commune: "referentiels:communes",
}
NOMS = {
    Formacode: "Formacode",
    NSF: "NSF",
    Rome: "ROME",
    Certification: "RNCP/RS",
    BlocCompetences: "de bloc de compétences",
    Commune: "INSEE",
}
SEPARATEURS = re.compile(r"[\s,;]+")
CERTIFICATION_ESPACE = re.compile(r"\b(RNCP|RS)\s+(?=\d)", re.IGNORECASE)


class AutocompleteWidget(forms.TextInput):
    """A text input with suggestions: `data-autocomplete` (the endpoint) and a `<datalist>` the script fills."""

    def __init__(self, url_name: str, *, multiple: bool = False, attrs=None):
        self.url_name = url_name
        self.multiple = multiple
        super().__init__(attrs)

    @property
    def media(self):
        return forms.Media(js=[forms.Script("ofeli/autocomplete.js", defer=True)])

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-autocomplete"] = reverse(self.url_name)
        widget_attrs.setdefault("autocomplete", "off")
        if self.multiple:
            widget_attrs["data-autocomplete-multiple"] = "true"
        if widget_attrs.get("id"):
            widget_attrs["list"] = f"{widget_attrs['id']}-suggestions"
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        element_id = (attrs or {}).get("id") or self.attrs.get("id")
        if not element_id:
            return html
        return html + format_html('<datalist id="{}-suggestions"></datalist>', element_id)

    def value_from_datadict(self, data, files, name):
        if self.multiple and hasattr(data, "getlist"):
            values = [v for v in data.getlist(name) if v.strip()]
            return ", ".join(values) if len(values) > 1 else (values[0] if values else data.get(name))
        return data.get(name)

    def format_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return super().format_value(value)


def _key(model) -> str:
    return "code_insee" if model is Commune else "code"


def _normaliser_code(model, code: str) -> str:
    code = code.strip().upper()
    if model is Certification and code.isdigit():
        return f"RNCP{code}"
    return code


def _liste(codes: list[str]) -> str:
    return ", ".join(codes)


class CodesField(forms.Field):
    """Several codes of one referential; cleans to the list of model instances, in the order typed, without duplicates.

    `max` limits how many (LHEO: 5 Formacode, 3 NSF, 5 ROME). `queryset` may restrict the accepted entries (for
    example the active certifications only).
    """

    def __init__(self, *, model, max: int | None = None, queryset=None, url_name: str | None = None, **kwargs):
        self.model = model
        self.max = max
        self.queryset = queryset if queryset is not None else model.objects.all()
        kwargs.setdefault("widget", AutocompleteWidget(url_name or AUTOCOMPLETE_URLS[model], multiple=True))
        kwargs.setdefault(
            "help_text",
            f"Un ou plusieurs codes {NOMS[model]}, séparés par des virgules"
            + (f" ({max} au plus)" if max else "")
            + ". Tapez un mot du libellé pour obtenir des suggestions.",
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, self.model):
            return getattr(value, _key(self.model))
        try:
            items = list(value)
        except TypeError:
            return value
        return ", ".join(getattr(v, _key(self.model)) if isinstance(v, self.model) else str(v) for v in items)

    def to_python(self, value) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value)
        if "\x00" in str(value):  # PostgreSQL refuses NUL in any text, even in a lookup: say so, never a 500
            raise ValidationError("Ce champ contient un caractère non autorisé.", code="null_characters_not_allowed")
        value = CERTIFICATION_ESPACE.sub(r"\1", str(value)) if self.model is Certification else str(value)
        codes = []
        for raw in SEPARATEURS.split(value):
            if raw:
                code = _normaliser_code(self.model, raw)
                if code not in codes:
                    codes.append(code)
        return codes

    def has_changed(self, initial, data):
        return self.to_python(self.prepare_value(initial)) != self.to_python(data)

    def validate(self, value):
        super().validate(value)
        if self.max and len(value) > self.max:
            raise ValidationError(
                f"{self.max} codes {NOMS[self.model]} au plus ({len(value)} saisis).", code="max_codes"
            )

    def clean(self, value):
        codes = super().clean(value)
        if not codes:
            return []
        key = _key(self.model)
        found = {getattr(o, key): o for o in self.queryset.filter(**{f"{key}__in": codes})}
        unknown = [c for c in codes if c not in found]
        if unknown:
            if len(unknown) == 1:
                message = f"Code {NOMS[self.model]} inconnu : {unknown[0]}."
            else:
                message = f"Codes {NOMS[self.model]} inconnus : {_liste(unknown)}."
            raise ValidationError(message, code="codes_inconnus")
        return [found[c] for c in codes]


INSEE = re.compile(r"\b(\d{5}|2[AB]\d{3})\b", re.IGNORECASE)


class CommuneField(forms.Field):
    """One commune, typed as its code INSEE (or a postal code that belongs to one commune only); cleans to a Commune."""

    def __init__(self, *, queryset=None, **kwargs):
        self.queryset = queryset if queryset is not None else Commune.objects.all()
        kwargs.setdefault("widget", AutocompleteWidget(AUTOCOMPLETE_URLS[Commune]))
        kwargs.setdefault(
            "help_text", "Code INSEE de la commune (ou son code postal). Tapez le nom pour obtenir des suggestions."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Commune):
            return value.code_insee
        return "" if value is None else value

    def has_changed(self, initial, data):
        try:
            before, after = self.to_python(self.prepare_value(initial)), self.to_python(data)
        except ValidationError:
            return True
        return getattr(before, "code_insee", None) != getattr(after, "code_insee", None)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Commune):
            return value
        texte = str(value).strip()
        matches = INSEE.findall(texte)
        if not matches:
            raise ValidationError(
                f"« {texte} » n'est pas un code INSEE : choisissez la commune dans la liste ou tapez son code INSEE "
                "(5 caractères).",
                code="format",
            )
        code = matches[-1].upper()
        commune = self.queryset.filter(code_insee=code).first()
        if commune:
            return commune
        par_code_postal = list(self.queryset.filter(codes_postaux__icontains=f'"{code}"').order_by("nom")[:10])
        if len(par_code_postal) == 1:
            return par_code_postal[0]
        if par_code_postal:
            noms = ", ".join(f"{c.nom} ({c.code_insee})" for c in par_code_postal)
            raise ValidationError(
                f"Le code postal {code} correspond à plusieurs communes : {noms}. Indiquez le code INSEE.",
                code="ambigu",
            )
        raise ValidationError(f"Commune inconnue : aucun code INSEE ni code postal {code}.", code="inconnue")
