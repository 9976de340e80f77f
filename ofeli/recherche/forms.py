"""The search form: every criterion validated, a French message next to the field when it is wrong.

The form is a GET form: its fields are the URL's parameters, so a search can be bookmarked and
shared. Codes are checked against the referentials (an unknown code is an error, not an empty
result), dates must be real dates, and nothing a user types can make a server error.
"""

import re

from django import forms
from django.db import connection
from django.db.models import Q

from ofeli.core.identifiants import normaliser_siret
from ofeli.core.region import current_region
from ofeli.offre.models import Dispositif, Etat, Niveau, Source
from ofeli.organismes.models import Organisme
from ofeli.referentiels.models import NSF, Certification, Commune, Departement, Formacode, Rome

from .index import code_normalise
from .query import Criteres, Tri
from .texte import sans_accents

_SEPARATEURS = re.compile(r"[\s,;]+")
_SEPARATEURS_NOMS = re.compile(r"[,;]+")
MAX_VALEURS = 30

OUI_NON = [("", "Indifférent"), ("oui", "Oui"), ("non", "Non")]

# The guide's sources: France Travail covers AFC and POEC.
SOURCES = [
    ("of", "Organisme de formation", [Source.OF]),
    ("region", "Région", [Source.REGION]),
    ("france_travail", "France Travail", [Source.AFC, Source.POEC]),
    ("apprentissage", "Apprentissage", [Source.APPRENTISSAGE]),
    ("scolaire", "Scolaire", [Source.SCOLAIRE]),
]


def _oui_non(valeur):
    return {"oui": True, "non": False}.get(valeur)


def _niveaux():
    return [("", "Indifférent"), *Niveau.choices]


class ListeDeCodes(forms.CharField):
    """A text field holding one or several codes separated by spaces, commas or semicolons."""

    def __init__(self, *, motif: str | None = None, exemple: str = "", **kwargs):
        self.motif = re.compile(motif) if motif else None
        self.exemple = exemple
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 400)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        codes = [code_normalise(c) for c in _SEPARATEURS.split(value) if c.strip()]
        return list(dict.fromkeys(codes))

    def validate(self, value):
        if len(value) > MAX_VALEURS:
            raise forms.ValidationError(f"{MAX_VALEURS} valeurs au plus.", code="trop")
        if self.motif:
            mauvais = [c for c in value if not self.motif.fullmatch(c)]
            if mauvais:
                raise forms.ValidationError(
                    "Code mal formé : %(codes)s (exemple attendu : %(exemple)s).",
                    code="format",
                    params={"codes": ", ".join(mauvais[:5]), "exemple": self.exemple},
                )

    def run_validators(self, value):
        # The length validator applies to the text typed, checked by CharField.clean before to_python.
        return None

    def clean(self, value):
        if value is not None and len(str(value)) > (self.max_length or 0):
            raise forms.ValidationError(f"{self.max_length} caractères au plus.", code="max_length")
        if value is not None and "\x00" in str(value):
            raise forms.ValidationError("Le caractère nul n’est pas autorisé.", code="null_characters")
        return super().clean(value)


def _organismes_nommes(saisie: str):
    """Organismes whose raison sociale, nom or sigle contains `saisie`, accents and case ignored."""
    if connection.vendor == "postgresql":
        return Organisme.objects.filter(
            Q(raison_sociale__unaccent__icontains=saisie)
            | Q(nom__unaccent__icontains=saisie)
            | Q(sigle__unaccent__iexact=saisie)
        )
    # SQLite's LIKE ignores the case of ASCII letters only: compare normalised names.
    cherche = sans_accents(saisie)
    ids = [
        pk
        for pk, *noms in Organisme.objects.values_list("pk", "raison_sociale", "nom", "sigle").iterator()
        if any(cherche in sans_accents(n) for n in noms if n)
    ]
    return Organisme.objects.filter(pk__in=ids[:501])


def _inconnus(codes: list[str], connus) -> list[str]:
    connus = {code_normalise(c) for c in connus}
    return [c for c in codes if c not in connus]


class RechercheForm(forms.Form):
    q = forms.CharField(
        label="Mots-clés",
        required=False,
        max_length=200,
        help_text="Dans l'intitulé, l'objectif et le contenu ; accents, majuscules et pluriels indifférents. "
        "« expression exacte » entre guillemets, -mot pour exclure, « ou » pour une alternative.",
    )
    formacode = ListeDeCodes(label="Formacode", motif=r"\d{5}", exemple="31812", help_text="Un ou plusieurs codes.")
    nsf = ListeDeCodes(label="NSF", motif=r"[0-9A-Z]{3}", exemple="254", help_text="Un ou plusieurs codes.")
    rome = ListeDeCodes(label="ROME", motif=r"[A-Z]\d{4}", exemple="H2913", help_text="Un ou plusieurs codes.")
    certification = ListeDeCodes(
        label="Code RNCP / RS",
        motif=r"(RNCP|RS)\d{1,8}",
        exemple="RNCP12345 ou RS1234",
        help_text="Un ou plusieurs codes.",
    )
    certifiante = forms.TypedChoiceField(
        label="Certifiante", choices=OUI_NON, required=False, coerce=_oui_non, empty_value=None
    )
    niveau_sortie = forms.TypedChoiceField(
        label="Niveau de sortie", choices=_niveaux, required=False, coerce=int, empty_value=None
    )
    niveau_entree = forms.TypedChoiceField(
        label="Niveau d'entrée", choices=_niveaux, required=False, coerce=int, empty_value=None
    )
    departement = ListeDeCodes(
        label="Département",
        motif=r"\d{2,3}|2A|2B",
        exemple="45",
        help_text="Département d'un lieu de formation ; un ou plusieurs codes.",
    )
    commune = forms.CharField(
        label="Commune",
        required=False,
        max_length=400,
        help_text="Code INSEE ou nom de la commune d'un lieu de formation ; plusieurs séparés par des virgules.",
    )
    debut_apres = forms.DateField(
        label="Session débutant à partir du",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="JJ/MM/AAAA",
    )
    debut_avant = forms.DateField(
        label="Session débutant jusqu'au",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="JJ/MM/AAAA",
    )
    etat = forms.MultipleChoiceField(
        label="État", choices=Etat.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    dispositif = forms.MultipleChoiceField(
        label="Dispositif / financement",
        choices=Dispositif.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    fonds_publics = forms.TypedChoiceField(
        label="Fonds publics", choices=OUI_NON, required=False, coerce=_oui_non, empty_value=None
    )
    a_distance = forms.TypedChoiceField(
        label="Formation entièrement à distance", choices=OUI_NON, required=False, coerce=_oui_non, empty_value=None
    )
    esp = forms.TypedChoiceField(
        label="Entrée / sortie permanente", choices=OUI_NON, required=False, coerce=_oui_non, empty_value=None
    )
    source = forms.MultipleChoiceField(
        label="Source",
        choices=[(v, label) for v, label, _ in SOURCES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    organisme = forms.CharField(
        label="Organisme",
        required=False,
        max_length=250,
        help_text="SIRET, numéro de déclaration d'activité ou partie de la raison sociale.",
    )
    numero = ListeDeCodes(
        label="Numéro Carif",
        motif=r"[0-9A-Z-]{1,20}",
        exemple="308695S",
        help_text="De la formation, d'une action ou d'une session ; un ou plusieurs.",
    )
    marche = forms.CharField(
        label="Numéro de marché",
        required=False,
        max_length=200,
        help_text="Un ou plusieurs, séparés par des virgules.",
    )
    tri = forms.ChoiceField(label="Trier par", choices=Tri.CHOICES, required=False)

    def __init__(self, data=None, *, staff: bool = False, **kwargs):
        super().__init__(data, **kwargs)
        self.staff = staff
        if not staff:
            del self.fields["organisme"]

    # --- Codes checked against the referentials ------------------------------------------

    def _verifier(self, champ, connus, message):
        codes = self.cleaned_data.get(champ) or []
        inconnus = _inconnus(codes, connus(codes)) if codes else []
        if inconnus:
            raise forms.ValidationError(message, code="inconnu", params={"codes": ", ".join(inconnus[:5])})
        return codes

    def clean_formacode(self):
        return self._verifier(
            "formacode",
            lambda c: Formacode.objects.filter(code__in=c).values_list("code", flat=True),
            "Formacode inconnu : %(codes)s.",
        )

    def clean_nsf(self):
        return self._verifier(
            "nsf",
            lambda c: NSF.objects.filter(code__in=c + [x.lower() for x in c]).values_list("code", flat=True),
            "Code NSF inconnu : %(codes)s.",
        )

    def clean_rome(self):
        return self._verifier(
            "rome",
            lambda c: Rome.objects.filter(code__in=c).values_list("code", flat=True),
            "Code ROME inconnu : %(codes)s.",
        )

    def clean_certification(self):
        return self._verifier(
            "certification",
            lambda c: Certification.objects.filter(code__in=c).values_list("code", flat=True),
            "Code RNCP ou RS inconnu : %(codes)s.",
        )

    def clean_departement(self):
        return self._verifier(
            "departement",
            lambda c: [
                *Departement.objects.filter(code__in=c).values_list("code", flat=True),
                *current_region().departements,
            ],
            "Département inconnu : %(codes)s.",
        )

    def clean_commune(self):
        saisie = self.cleaned_data.get("commune") or ""
        termes = [t.strip() for t in _SEPARATEURS_NOMS.split(saisie) if t.strip()]
        if len(termes) > MAX_VALEURS:
            raise forms.ValidationError(f"{MAX_VALEURS} communes au plus.", code="trop")
        codes, inconnues = [], []
        for terme in termes:
            if re.fullmatch(r"\d[0-9AB]\d{3}", terme.upper()):
                trouves = list(Commune.objects.filter(code_insee=terme.upper()).values_list("code_insee", flat=True))
            else:
                trouves = list(Commune.objects.filter(nom__iexact=terme).values_list("code_insee", flat=True))
            if trouves:
                codes.extend(trouves)
            else:
                inconnues.append(terme)
        if inconnues:
            raise forms.ValidationError(
                "Commune inconnue : %(communes)s.", code="inconnu", params={"communes": ", ".join(inconnues[:5])}
            )
        return list(dict.fromkeys(codes))

    def clean_marche(self):
        saisie = self.cleaned_data.get("marche") or ""
        numeros = [code_normalise(t) for t in _SEPARATEURS_NOMS.split(saisie) if t.strip()]
        if len(numeros) > MAX_VALEURS:
            raise forms.ValidationError(f"{MAX_VALEURS} numéros au plus.", code="trop")
        return list(dict.fromkeys(numeros))

    def clean_organisme(self):
        saisie = (self.cleaned_data.get("organisme") or "").strip()
        if not saisie:
            return []
        chiffres = re.sub(r"\D", "", saisie)
        if len(chiffres) == 14 and chiffres == re.sub(r"[\s.]", "", saisie):
            trouves = Organisme.objects.filter(siret=normaliser_siret(saisie))
        elif len(chiffres) == 11 and chiffres == re.sub(r"[\s.]", "", saisie):
            trouves = Organisme.objects.filter(nda=chiffres)
        else:
            trouves = _organismes_nommes(saisie)
        ids = list(trouves.values_list("pk", flat=True)[:501])
        if not ids:
            raise forms.ValidationError("Aucun organisme ne correspond à « %(saisie)s ».", params={"saisie": saisie})
        if len(ids) > 500:
            raise forms.ValidationError("Trop d'organismes correspondent : précisez la raison sociale ou le SIRET.")
        return ids

    def clean(self):
        data = super().clean()
        apres, avant = data.get("debut_apres"), data.get("debut_avant")
        if apres and avant and apres > avant:
            self.add_error("debut_avant", "Cette date doit être postérieure ou égale à la date « à partir du ».")
        return data

    def criteres(self) -> Criteres:
        """The validated criteria (call after is_valid())."""
        d = self.cleaned_data
        sources = [s for valeur, _, membres in SOURCES if valeur in d.get("source", []) for s in membres]
        return Criteres(
            texte=d.get("q", ""),
            formacodes=d.get("formacode", []),
            nsf=d.get("nsf", []),
            romes=d.get("rome", []),
            certifications=d.get("certification", []),
            departements=d.get("departement", []),
            communes=d.get("commune", []),
            dispositifs=d.get("dispositif", []),
            numeros=d.get("numero", []),
            marches=d.get("marche", []),
            etats=d.get("etat", []),
            sources=sources,
            organismes=d.get("organisme", []) if self.staff else [],
            certifiante=d.get("certifiante"),
            fonds_publics=d.get("fonds_publics"),
            a_distance=d.get("a_distance"),
            entree_sortie_permanente=d.get("esp"),
            niveau_entree=d.get("niveau_entree"),
            niveau_sortie=d.get("niveau_sortie"),
            debut_apres=d.get("debut_apres"),
            debut_avant=d.get("debut_avant"),
            tri=d.get("tri") or Tri.PERTINENCE,
        )
