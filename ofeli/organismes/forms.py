"""Forms of the organismes screens: presentation and type conversion only.

The rules live in ofeli.organismes.services, whose ValidationErrors (keyed by field) are put
back on the form with `apply_errors`.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from ofeli.accounts.models import Civilite

CODE_INSEE_HELP = (
    "Code officiel de la commune, 5 caractères (ex. 45234 pour Orléans) ; le département en est déduit. "
    "Laissé vide, il est déduit du code postal et de la ville."
)


def apply_errors(form: forms.Form, exc: ValidationError):
    """Puts a service's ValidationError on the form: on its field when the form has it, on top otherwise."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in errors:
            form.add_error(target, message)


def _ligne1():
    return forms.CharField(label="Adresse", max_length=50)


def _ligne2():
    return forms.CharField(label="Complément d'adresse", max_length=50, required=False)


def _code_postal():
    return forms.CharField(label="Code postal", max_length=5, widget=forms.TextInput(attrs={"inputmode": "numeric"}))


def _ville():
    return forms.CharField(label="Ville", max_length=50)


def _code_insee():
    return forms.CharField(label="Code INSEE de la commune", max_length=5, required=False, help_text=CODE_INSEE_HELP)


def _peut_gerer():
    return forms.BooleanField(label="Gérer l'organisme et ses contacts", required=False)


class FicheForm(forms.Form):
    nom = forms.CharField(
        label="Nom d'usage", max_length=250, required=False, help_text="Le nom sous lequel l'organisme est connu."
    )
    sigle = forms.CharField(label="Sigle", max_length=50, required=False)
    ligne1 = _ligne1()
    ligne2 = _ligne2()
    code_postal = _code_postal()
    ville = _ville()
    code_insee = _code_insee()
    telephone = forms.CharField(
        label="Téléphone", max_length=25, required=False, widget=forms.TextInput(attrs={"autocomplete": "tel"})
    )
    email = forms.CharField(
        label="Adresse e-mail de l'organisme", max_length=254, required=False, widget=forms.EmailInput()
    )
    site_web = forms.CharField(
        label="Site internet",
        max_length=400,
        required=False,
        widget=forms.URLInput(),
        help_text="Adresse complète, ex. https://www.exemple.fr",
    )
    description = forms.CharField(
        label="Description de l'organisme",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Présentation libre de l'organisme, diffusée avec son offre.",
    )
    code_uai = forms.CharField(
        label="Code UAI",
        max_length=8,
        required=False,
        help_text="Pour les établissements enregistrés auprès de l'Éducation nationale (ex. 0451234A).",
    )


class IdentiteForm(forms.Form):
    raison_sociale = forms.CharField(label="Raison sociale", max_length=250)
    siret = forms.CharField(label="SIRET", max_length=20, help_text="14 chiffres.")
    nda = forms.CharField(
        label="Numéro de déclaration d'activité (NDA)", max_length=20, required=False, help_text="11 chiffres."
    )
    justification = forms.CharField(
        label="Motif de la demande",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : changement de dénomination, déménagement de l'établissement…",
    )


class LieuForm(forms.Form):
    denomination = forms.CharField(label="Dénomination du lieu", max_length=255, required=False)
    ligne1 = _ligne1()
    ligne2 = _ligne2()
    code_postal = _code_postal()
    ville = _ville()
    code_insee = _code_insee()
    siret = forms.CharField(label="SIRET du lieu", max_length=20, required=False)
    telephone = forms.CharField(label="Téléphone", max_length=25, required=False)
    email = forms.CharField(label="Adresse e-mail", max_length=254, required=False, widget=forms.EmailInput())


class FormateurForm(forms.Form):
    siret = forms.CharField(label="SIRET de l'organisme formateur", max_length=20, help_text="14 chiffres.")
    raison_sociale = forms.CharField(
        label="Raison sociale",
        max_length=250,
        required=False,
        help_text="Laissez vide si l'organisme est déjà enregistré dans OFeli : sa raison sociale est reprise.",
    )


DROITS_HELP = "Sans aucun de ces deux droits, le contact peut seulement consulter."


class InvitationForm(forms.Form):
    civilite = forms.ChoiceField(label="Civilité", choices=[("", "—"), *Civilite.choices], required=False)
    first_name = forms.CharField(label="Prénom", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = forms.CharField(label="Nom", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.EmailField(
        label="Adresse e-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    telephone = forms.CharField(label="Téléphone", max_length=25, required=False)
    fonction = forms.CharField(label="Fonction", max_length=100, required=False)
    peut_gerer = _peut_gerer()
    peut_saisir = forms.BooleanField(label="Saisir l'offre", required=False, help_text=DROITS_HELP)
    consentement = forms.BooleanField(
        label="La personne a été informée de la politique de gestion des données personnelles et y consent",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consentement"].help_text = format_html(
            "La création d'un contact implique l'acceptation pleine et entière de la <a href=\"{}\">politique de "
            "gestion des données personnelles</a> d'OFeli.",
            reverse("core:politique_donnees"),
        )


class DroitsForm(forms.Form):
    fonction = forms.CharField(label="Fonction", max_length=100, required=False)
    peut_gerer = _peut_gerer()
    peut_saisir = forms.BooleanField(label="Saisir l'offre", required=False, help_text=DROITS_HELP)


class RefusForm(forms.Form):
    motif_refus = forms.CharField(
        label="Motif du refus",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce motif est envoyé à la personne qui a fait la demande.",
    )


class RechercheOrganismeForm(forms.Form):
    q = forms.CharField(label="Nom, SIRET ou NDA", required=False, max_length=100)
