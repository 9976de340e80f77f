"""Forms of the bulk edit and the rollover screens: filters of the session lists, the change to apply."""

from django import forms
from django.db.models import Q
from django.utils import timezone

from ofeli.organismes.models import Contact, Lieu

from .forms import ContactChoiceField, DateField, PrixField
from .masse import Champ
from .models import Dispositif, Etat, EtatRecrutement


class FiltreSessionsForm(forms.Form):
    """Filters of a list of sessions (GET). The names differ from the search page's, which may come along."""

    texte = forms.CharField(
        required=False,
        max_length=200,
        label="Intitulé ou numéro",
        help_text="Un mot de l'intitulé de la formation ou un numéro Carif de formation ou de session.",
    )
    annee = forms.IntegerField(
        required=False, min_value=2000, max_value=2100, label="Année de début", help_text="Par exemple 2026."
    )
    etat_session = forms.ChoiceField(
        required=False, choices=[("", "Tous les états")] + Etat.choices, label="État de la session"
    )
    dispositif_session = forms.ChoiceField(
        required=False, choices=[("", "Tous les dispositifs")] + Dispositif.choices, label="Dispositif"
    )
    organisme_nda = forms.CharField(
        required=False,
        max_length=14,
        label="Organisme (NDA ou SIRET)",
        help_text="Numéro de déclaration d'activité (11 chiffres) ou SIRET (14 chiffres).",
    )

    def __init__(self, *args, staff: bool = False, annee_obligatoire: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["organisme_nda"]
        if annee_obligatoire:
            self.fields["annee"].label = "Sessions commençant en"
            self.fields["annee"].help_text = "Les sessions de cette année sont reconduites sur l'année suivante."
            del self.fields["etat_session"]

    def clean_organisme_nda(self):
        valeur = "".join(self.cleaned_data.get("organisme_nda", "").split())
        if valeur and not (valeur.isdigit() and len(valeur) in (11, 14)):
            raise forms.ValidationError("Indiquez un NDA (11 chiffres) ou un SIRET (14 chiffres).")
        return valeur

    def filtrer(self, qs):
        """`qs`: sessions already limited to what the user may see."""
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data.get("texte"):
            texte = data["texte"].strip()
            qs = qs.filter(
                Q(action__formation__intitule__icontains=texte)
                | Q(numero__iexact=texte)
                | Q(action__formation__numero__iexact=texte)
            )
        if data.get("annee"):
            qs = qs.filter(debut__year=data["annee"])
        if data.get("etat_session"):
            qs = qs.filter(etat=data["etat_session"])
        if data.get("dispositif_session"):
            qs = qs.filter(action__dispositif=data["dispositif_session"])
        if data.get("organisme_nda"):
            cle = "nda" if len(data["organisme_nda"]) == 11 else "siret"
            qs = qs.filter(**{f"action__formation__organisme__{cle}": data["organisme_nda"]})
        return qs


def annee_courante() -> int:
    return timezone.localdate().year


class ModificationMasseForm(forms.Form):
    """What to change on every chosen session, and to what. Only the fields of the chosen change are read."""

    champ = forms.ChoiceField(choices=Champ.CHOICES, widget=forms.RadioSelect, label="Que voulez-vous modifier ?")
    contacts = ContactChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        label="Nouveaux contacts",
        help_text="Ils remplacent les contacts (pour l'information ou pour l'inscription) de chaque session.",
    )
    lieux = forms.ModelMultipleChoiceField(
        queryset=Lieu.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Nouveaux lieux de formation",
        help_text="Ils remplacent les lieux de formation de chaque session.",
    )
    etat_recrutement = forms.TypedChoiceField(
        choices=EtatRecrutement.choices,
        coerce=int,
        widget=forms.RadioSelect,
        required=False,
        label="Nouvel état du recrutement",
    )
    inscription_debut = DateField(required=False, label="Début de la période d'inscription")
    inscription_fin = DateField(required=False, label="Fin de la période d'inscription")
    prix_total_ttc = PrixField(
        max_digits=9,
        decimal_places=2,
        min_value=0,
        required=False,
        label="Prix total TTC (€)",
        help_text="Laissez vide pour garder le prix total de chaque session.",
    )
    prix_horaire_ttc = PrixField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        required=False,
        label="Prix horaire TTC (€)",
        help_text="Laissez vide pour garder le prix horaire de chaque session.",
    )
    dispositif = forms.ChoiceField(choices=[("", "—")] + Dispositif.choices, required=False, label="Nouveau dispositif")

    CHAMPS_PAR_CHOIX = {
        Champ.CONTACTS_INFORMATION: ["contacts"],
        Champ.CONTACTS_INSCRIPTION: ["contacts"],
        Champ.LIEUX: ["lieux"],
        Champ.ETAT_RECRUTEMENT: ["etat_recrutement"],
        Champ.PERIODE_INSCRIPTION: ["inscription_debut", "inscription_fin"],
        Champ.PRIX: ["prix_total_ttc", "prix_horaire_ttc"],
        Champ.DISPOSITIF: ["dispositif"],
    }

    def __init__(self, *args, organisme=None, **kwargs):
        """`organisme`: the one OF of the chosen sessions (None: several OFs, no contact nor lieu to choose)."""
        super().__init__(*args, **kwargs)
        self.organisme = organisme
        if organisme is None:
            del self.fields["contacts"]
            del self.fields["lieux"]
            self.fields["champ"].choices = [
                (k, v)
                for k, v in Champ.CHOICES
                if k not in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION, Champ.LIEUX)
            ]
        else:
            self.fields["contacts"].queryset = (
                Contact.objects.filter(organisme=organisme, actif=True).select_related("user").order_by("user__email")
            )
            self.fields["lieux"].queryset = Lieu.objects.filter(organisme=organisme, actif=True)

    def groupes(self):
        """For the template: each change with its own fields (a fieldset each)."""
        libelles = dict(self.fields["champ"].choices)
        groupes = []
        for choix, noms in self.CHAMPS_PAR_CHOIX.items():
            if choix not in libelles:
                continue
            if choix == Champ.CONTACTS_INSCRIPTION:
                continue  # shares the contacts field with CONTACTS_INFORMATION
            titre = "Contacts" if choix == Champ.CONTACTS_INFORMATION else libelles[choix]
            groupes.append({"titre": titre, "champs": [self[n] for n in noms if n in self.fields]})
        return groupes

    def clean(self):
        cleaned = super().clean()
        champ = cleaned.get("champ")
        if champ in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION) and not cleaned.get("contacts"):
            self.add_error("contacts", "Choisissez au moins un contact.")
        elif champ == Champ.LIEUX and not cleaned.get("lieux"):
            self.add_error("lieux", "Choisissez au moins un lieu de formation.")
        elif champ == Champ.ETAT_RECRUTEMENT and cleaned.get("etat_recrutement") in (None, ""):
            self.add_error("etat_recrutement", "Choisissez le nouvel état du recrutement.")
        elif champ == Champ.PERIODE_INSCRIPTION:
            debut, fin = cleaned.get("inscription_debut"), cleaned.get("inscription_fin")
            if not debut and "inscription_debut" not in self.errors:
                self.add_error("inscription_debut", "Indiquez le début de la période d'inscription.")
            if not fin and "inscription_fin" not in self.errors:
                self.add_error("inscription_fin", "Indiquez la fin de la période d'inscription.")
            if debut and fin and fin < debut:
                self.add_error(
                    "inscription_fin", "La fin des inscriptions doit être postérieure ou égale à leur début."
                )
        elif champ == Champ.PRIX:
            if (
                cleaned.get("prix_total_ttc") is None
                and cleaned.get("prix_horaire_ttc") is None
                and not {"prix_total_ttc", "prix_horaire_ttc"} & set(self.errors)
            ):
                self.add_error("prix_total_ttc", "Indiquez le prix total TTC, le prix horaire TTC, ou les deux.")
        elif champ == Champ.DISPOSITIF and not cleaned.get("dispositif"):
            self.add_error("dispositif", "Choisissez le nouveau dispositif.")
        return cleaned

    def valeur(self):
        """The value for modifier_sessions_en_masse (the form must be valid)."""
        data = self.cleaned_data
        champ = data["champ"]
        if champ in (Champ.CONTACTS_INFORMATION, Champ.CONTACTS_INSCRIPTION):
            return list(data["contacts"])
        if champ == Champ.LIEUX:
            return list(data["lieux"])
        if champ == Champ.ETAT_RECRUTEMENT:
            return data["etat_recrutement"]
        if champ == Champ.PERIODE_INSCRIPTION:
            return (data["inscription_debut"], data["inscription_fin"])
        if champ == Champ.PRIX:
            return {"prix_total_ttc": data["prix_total_ttc"], "prix_horaire_ttc": data["prix_horaire_ttc"]}
        return data["dispositif"]


class ReconductionForm(forms.Form):
    annee = forms.IntegerField(
        min_value=2000,
        max_value=2100,
        label="Année cible",
        error_messages={"required": "Indiquez l'année sur laquelle reconduire les sessions."},
    )
