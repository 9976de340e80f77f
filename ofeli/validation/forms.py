from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from ofeli.core.region import current_region
from ofeli.offre.models import Dispositif
from ofeli.organismes.models import Organisme

from .services import TypeChangement


class SelectRapide(forms.Select):
    """A select whose options are written directly, not through one template per option: the queue's organisme
    filter lists every organisme with something waiting (hundreds at regional scale)."""

    def render(self, name, value, attrs=None, renderer=None):
        choisis = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            # " selected" holds nothing to escape: passed through format_html's escaping like the rest.
            ((v, " selected" if str(v) in choisis else "", libelle) for v, libelle in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class FiltreForm(forms.Form):
    organisme = forms.ModelChoiceField(
        label="Organisme",
        queryset=Organisme.objects.none(),
        required=False,
        empty_label="Tous les organismes",
        widget=SelectRapide,
    )
    departement = forms.ChoiceField(label="Département", required=False)
    dispositif = forms.ChoiceField(
        label="Dispositif", required=False, choices=[("", "Tous les dispositifs"), *Dispositif.choices]
    )
    type_changement = forms.ChoiceField(
        label="Type de changement", required=False, choices=[("", "Tous les changements"), *TypeChangement.choices]
    )

    def __init__(self, *args, organismes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisme"].queryset = organismes if organismes is not None else Organisme.objects.all()
        self.fields["departement"].choices = [("", "Tous les départements")] + [
            (d, d) for d in current_region().departements
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ValiderForm(VersionForm):
    message = forms.CharField(
        label="Commentaire (facultatif, gardé dans l'historique)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ComplementForm(VersionForm):
    message = forms.CharField(
        label="Message à l'organisme",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Dites ce qu'il faut compléter ou corriger. Le message arrive dans la messagerie de l'organisme, "
        "avec un bouton vers l'écran à corriger.",
    )


class RefusForm(VersionForm):
    motif = forms.CharField(
        label="Motif du refus (transmis à l'organisme)", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AnnulerComplementForm(VersionForm):
    demande = forms.IntegerField(widget=forms.HiddenInput)
