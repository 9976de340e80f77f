from django import forms

from ofeli.offre.models import Etat, Formation
from ofeli.organismes.models import Organisme

from .fichiers import MAX_PIECES_PAR_MESSAGE
from .models import TypeNotification
from .services import SUJET_MAX, TEXTE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "application/pdf,image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _aide_pieces():
    return f"PDF ou image (PNG, JPEG, GIF, WebP), {MAX_PIECES_PAR_MESSAGE} fichiers au plus."


class MessageForm(forms.Form):
    texte = forms.CharField(label="Votre message", max_length=TEXTE_MAX, widget=forms.Textarea(attrs={"rows": 5}))
    pieces = MultipleFileField(label="Pièces jointes", required=False, help_text=_aide_pieces())

    def __init__(self, *args, staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["lien"] = forms.CharField(
                label="Lien vers l'élément à corriger",
                required=False,
                max_length=500,
                help_text="Facultatif : adresse dans OFeli (commençant par « / ») affichée comme un bouton.",
            )


class NouveauFilForm(MessageForm):
    field_order = ["organisme", "formation", "sujet", "texte", "pieces", "lien"]

    sujet = forms.CharField(label="Sujet", max_length=SUJET_MAX)

    def __init__(self, *args, staff=False, organisme=None, avec_formation=True, **kwargs):
        super().__init__(*args, staff=staff, **kwargs)
        if staff and organisme is None:
            self.fields["organisme"] = forms.ModelChoiceField(
                label="Organisme", queryset=Organisme.objects.filter(actif=True).order_by("raison_sociale")
            )
        if organisme is not None and avec_formation:
            self.fields["formation"] = forms.ModelChoiceField(
                label="À propos de la formation",
                required=False,
                empty_label="Aucune formation en particulier",
                queryset=Formation.objects.filter(organisme=organisme)
                .exclude(etat=Etat.ARCHIVE_OF)
                .order_by("intitule"),
            )
        self.order_fields(self.field_order)


class FiltreFilsForm(forms.Form):
    """Staff filters of the list of threads (an OF sees its own threads with the same filters but the first)."""

    SUJETS = [("", "Tous les fils"), ("formation", "À propos d'une formation"), ("general", "Sans formation")]

    q = forms.CharField(label="Organisme (nom ou SIRET)", required=False, max_length=100)
    non_lus = forms.BooleanField(label="Non lus seulement", required=False)
    objet = forms.ChoiceField(label="Objet", choices=SUJETS, required=False)
    formation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["q"]


class PreferencesForm(forms.Form):
    def __init__(self, *args, preferences: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in TypeNotification.choices:
            self.fields[value] = forms.BooleanField(label=label, required=False, initial=preferences.get(value, True))
