from django import forms
from django.utils import timezone

from ofeli.offre.forms import DateField

from .models import TypeOffre


class CampagneForm(forms.Form):
    type_offre = forms.ChoiceField(
        label="Formations concernées",
        choices=TypeOffre.choices,
        error_messages={"required": "Choisissez les formations concernées.", "invalid_choice": "Choix inconnu."},
    )
    debut = DateField(
        label="Début de la campagne",
        help_text="JJ/MM/AAAA",
        error_messages={"required": "Indiquez la date de début.", "invalid": "Date invalide : saisissez JJ/MM/AAAA."},
    )
    fin = DateField(
        label="Fin de la campagne",
        help_text="JJ/MM/AAAA : date limite pour vérifier et confirmer l'offre",
        error_messages={"required": "Indiquez la date de fin.", "invalid": "Date invalide : saisissez JJ/MM/AAAA."},
    )
    message = forms.CharField(
        label="Message aux organismes (facultatif)",
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Ajouté au courriel et à la notification envoyés à chaque organisme concerné.",
        error_messages={"max_length": "Le message ne doit pas dépasser 3000 caractères."},
    )
    confirme = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("debut", timezone.localdate())

    def clean(self):
        data = super().clean()
        debut, fin = data.get("debut"), data.get("fin")
        if debut and fin and fin < debut:
            self.add_error("fin", "La date de fin doit être postérieure ou égale à la date de début.")
        return data

    def ajouter_erreurs(self, exc):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)


class FiltreSuiviForm(forms.Form):
    ETATS = [("", "Tous les organismes"), ("confirme", "Offre confirmée"), ("non_confirme", "Pas encore confirmée")]

    etat = forms.ChoiceField(label="Afficher", choices=ETATS, required=False)
    q = forms.CharField(label="Nom ou SIRET", required=False, max_length=100)
