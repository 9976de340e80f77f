"""Forms of the offer entry. They show the rules' messages next to the fields; the services re-check them."""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError

from ofeli.organismes.models import Contact, Lieu, OrganismeFormateur
from ofeli.referentiels.fields import CodesField, CommuneField
from ofeli.referentiels.models import NSF, BlocCompetences, Certification, Formacode, Rome

from . import rules, services
from .models import Dispositif, Formation, ModalitesEnseignement, PieceJointe, Session
from .pieces import verifier_fichier

# Formacode V14 "public" codes as used on current Carif-Oref data (docs/lheo.md §5).
PUBLICS_VISES = [
    ("83056", "Tout public"),
    ("80006", "Demandeur d'emploi"),
    ("80001", "Public sans emploi"),
    ("80003", "Demandeur d'emploi de plus de 26 ans"),
    ("80009", "Demandeur d'emploi de moins de 26 ans"),
    ("80007", "Demandeur d'emploi de longue durée"),
    ("80004", "Cadre demandeur d'emploi"),
    ("80008", "Licencié économique"),
    ("82044", "Salarié"),
    ("82058", "Public en emploi"),
    ("82055", "Agent de la fonction publique"),
    ("81050", "Particulier, individuel"),
    ("81024", "Jeune 16-25 ans"),
    ("81020", "Personne handicapée"),
    ("81018", "Femme"),
    ("81019", "Personne en situation d'illettrisme"),
    ("81022", "Immigré"),
    ("81023", "Primo-arrivant"),
    ("81042", "Réfugié"),
    ("81013", "Personne sous main de justice"),
    ("81061", "Formation initiale"),
    ("82004", "Artisan"),
    ("82009", "Commerçant"),
    ("82038", "Profession libérale"),
    ("82017", "Exploitant ou salarié agricole"),
    ("82016", "Formateur"),
    ("82015", "Enseignant"),
    ("82018", "Maître d'apprentissage"),
    ("82019", "Tuteur"),
    ("81069", "Bénévole"),
    ("81099", "Autre public"),
]

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", DATE_FORMATS)
        super().__init__(**kwargs)


class PrixField(forms.DecimalField):
    """A price in euros, typed the French way: "1 250,50" (spaces and a decimal comma accepted)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def widget_attrs(self, widget):
        return {}

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".")
        return super().to_python(value)


class ContactChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def _check_values(self, value):
        # A number beyond the database's integers is no contact (SQLite raises OverflowError on `pk__in`).
        for pk in value:
            texte = str(pk).strip()
            if texte.isascii() and texte.isdigit() and int(texte) > 2**63 - 1:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)

    def label_from_instance(self, obj):
        name = obj.user.get_full_name() or obj.user.email
        return f"{name} ({obj.user.email})"


class OuiNonField(forms.TypedChoiceField):
    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        super().__init__(
            choices=[("1", "Oui"), ("0", "Non")], coerce=lambda v: v in ("1", True, "True"), empty_value=False, **kwargs
        )

    def prepare_value(self, value):
        if value in (True, "1", "True"):
            return "1"
        if value in (False, "0", "False"):
            return "0"
        return value


def afficher(field, valeur) -> str:
    """A field's value as a reader sees it (labels of choices, JJ/MM/AAAA dates, Oui/Non)."""
    if isinstance(field, forms.FileField):
        return ""
    if isinstance(valeur, list | tuple):
        textes = [afficher(field, v) for v in valeur]
        return ", ".join(t for t in textes if t) or "—"
    if valeur in (None, ""):
        return "—"
    if isinstance(valeur, bool):
        return "Oui" if valeur else "Non"
    if isinstance(valeur, datetime.date):
        return valeur.strftime("%d/%m/%Y")
    if isinstance(field, forms.ModelChoiceField) and not hasattr(valeur, "pk"):
        obj = field.queryset.filter(pk=valeur).first()
        return field.label_from_instance(obj) if obj else "—"
    if hasattr(valeur, "pk") and isinstance(field, forms.ModelChoiceField):
        return field.label_from_instance(valeur)
    choices = dict((str(k), v) for k, v in getattr(field, "choices", []) or [])
    return str(choices.get(str(valeur), valeur))


class OngletsMixin:
    """Forms shown in tabs: `onglets` = [(id, title, [field names])]; without JS the sections stack."""

    onglets: list = []

    def sections(self):
        result = []
        for ident, titre, noms in self.onglets:
            champs = [self[n] for n in noms if n in self.fields]
            if champs:
                result.append(
                    {
                        "id": ident,
                        "titre": titre,
                        "champs": champs,
                        "lignes": [],
                        "erreurs": any(c.errors for c in champs),
                    }
                )
        return result

    def sections_lecture(self):
        """The same sections for reading: each field's label and its value as text."""
        result = []
        for ident, titre, noms in self.onglets:
            lignes = [
                (self.fields[n].label, afficher(self.fields[n], self[n].value()))
                for n in noms
                if n in self.fields and not isinstance(self.fields[n], forms.FileField)
            ]
            if lignes:
                result.append({"id": ident, "titre": titre, "champs": [], "lignes": lignes, "erreurs": False})
        return result

    def ajouter_erreurs(self, erreurs: dict):
        for champ, messages in erreurs.items():
            for message in messages:
                self.add_error(None if champ == "__all__" or champ not in self.fields else champ, message)


class FormationForm(OngletsMixin, forms.ModelForm):
    onglets = [
        ("description", "Description", ["intitule", "objectif", "resultats_attendus", "contenu"]),
        ("certification", "Certification", ["certifiante", "certifications", "agrement"]),
        ("domaines", "Domaines et métiers", ["formacodes", "nsf", "romes"]),
        ("niveaux", "Niveaux et parcours", ["niveau_entree", "niveau_sortie", "parcours", "objectif_general"]),
        ("contacts", "Contacts et site internet", ["contacts", "url"]),
    ]

    certifications = CodesField(
        model=Certification,
        max=5,
        queryset=Certification.objects.filter(actif=True),
        required=False,
        label="Certifications (RNCP, RS)",
        help_text="Codes RNCP ou RS (par exemple RNCP12345, RS1234), séparés par des virgules (5 au plus) ; "
        "tapez un mot de l'intitulé ou un code pour obtenir des suggestions.",
    )
    formacodes = CodesField(
        model=Formacode,
        max=5,
        required=False,
        label="Codes Formacode",
        help_text="Jusqu'à 5 codes à 5 chiffres, le premier étant le principal ; tapez un mot du libellé pour "
        "obtenir des suggestions.",
    )
    nsf = CodesField(model=NSF, max=3, required=False, label="Codes NSF")
    romes = CodesField(model=Rome, max=5, required=False, label="Codes ROME")
    contacts = ContactChoiceField(queryset=Contact.objects.none(), required=False, label="Contacts de la formation")
    agrement = forms.FileField(
        required=False,
        label="Agrément de l'organisme valideur",
        help_text="Formation certifiante : copie de l'agrément délivré par l'organisme valideur (ou par le centre "
        "partenaire), en PDF ou en image.",
    )
    url = forms.URLField(max_length=400, required=False, assume_scheme="https", label="Site internet de la formation")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Formation
        fields = [
            "intitule",
            "objectif",
            "resultats_attendus",
            "contenu",
            "certifiante",
            "parcours",
            "niveau_entree",
            "niveau_sortie",
            "objectif_general",
            "url",
        ]
        labels = {"certifiante": "Formation certifiante", "url": "Site internet de la formation"}
        widgets = {
            "objectif": forms.Textarea(attrs={"rows": 4, "maxlength": 3000}),
            "resultats_attendus": forms.Textarea(attrs={"rows": 4, "maxlength": 3000}),
            "contenu": forms.Textarea(attrs={"rows": 6, "maxlength": 3000}),
        }

    def __init__(self, *args, organisme, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisme = organisme
        self.fields["contacts"].queryset = (
            Contact.objects.filter(organisme=organisme, actif=True).select_related("user").order_by("user__email")
        )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            for nom in ("certifications", "formacodes", "nsf", "romes", "contacts"):
                self.initial[nom] = list(getattr(self.instance, nom).all())
            if self.a_un_agrement():
                self.fields[
                    "agrement"
                ].help_text = "Un agrément est déjà joint à cette formation ; vous pouvez en joindre un autre."

    def a_un_agrement(self) -> bool:
        return bool(
            self.instance.pk
            and self.instance.pieces_jointes.filter(nature=PieceJointe.Nature.AGREMENT_CERTIFICATION).exists()
        )

    def clean_agrement(self):
        fichier = self.cleaned_data.get("agrement")
        if fichier:
            verifier_fichier(fichier)
        return fichier

    def clean(self):
        cleaned = super().clean()
        if "certifications" in cleaned and "certifiante" in cleaned:
            a_un_agrement = self.a_un_agrement() or bool(cleaned.get("agrement")) or "agrement" in self.errors
            self.ajouter_erreurs(services.verifier_formation(donnees=cleaned, a_un_agrement=a_un_agrement))
        return cleaned

    def donnees(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("agrement", "version")}


class SessionForm(OngletsMixin, forms.Form):
    """A session with its action folded in, as on the guide's screens."""

    onglets = [
        (
            "dispositif",
            "Dispositif et public",
            [
                "dispositif",
                "numero_marche",
                "public_vise",
                "info_public_vise",
                "niveau_entree_obligatoire",
                "conditions_specifiques",
            ],
        ),
        (
            "organisation",
            "Organisation",
            [
                "modalites_enseignement",
                "rythme",
                "modalites_alternance",
                "modalites_pedagogiques",
                "duree_indicative",
                "nombre_heures_centre",
                "nombre_heures_entreprise",
                "nombre_heures_total",
                "organisme_formateur",
            ],
        ),
        (
            "prix",
            "Prix et prise en charge",
            [
                "prix_total_ttc",
                "prix_horaire_ttc",
                "prise_en_charge_frais_possible",
                "detail_conditions_prise_en_charge",
            ],
        ),
        (
            "lieux",
            "Lieux et contacts",
            [
                "lieux",
                "adresse_inscription",
                "contacts_information",
                "contacts_inscription",
                "acces_handicapes",
                "convention",
                "commune_convention",
            ],
        ),
        (
            "dates",
            "Dates de la session",
            ["entree_sortie_permanente", "debut", "fin", "inscription_debut", "inscription_fin"],
        ),
        (
            "recrutement",
            "Recrutement",
            [
                "etat_recrutement",
                "places_restantes",
                "places_date",
                "modalites_recrutement",
                "modalites_inscription",
                "url",
            ],
        ),
        ("blocs", "Blocs de compétences", ["blocs"]),
    ]

    dispositif = forms.ChoiceField(
        choices=Dispositif.choices, initial=Dispositif.ENTREPRISE_PARTICULIER, label="Dispositif"
    )
    numero_marche = forms.CharField(max_length=50, required=False, label="Numéro de marché")
    public_vise = forms.MultipleChoiceField(
        choices=PUBLICS_VISES, widget=forms.CheckboxSelectMultiple, label="Public visé"
    )
    info_public_vise = forms.CharField(max_length=250, required=False, label="Précisions sur le public")
    niveau_entree_obligatoire = forms.BooleanField(required=False, label="Niveau d'entrée obligatoire")
    conditions_specifiques = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 3000}),
        max_length=3000,
        required=False,
        label="Conditions spécifiques et prérequis",
    )
    modalites_enseignement = forms.TypedChoiceField(
        choices=ModalitesEnseignement.choices,
        coerce=int,
        widget=forms.RadioSelect,
        initial=ModalitesEnseignement.PRESENTIEL,
        label="Modalités d'enseignement",
    )
    rythme = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 3000}), max_length=3000, label="Rythme de la formation"
    )
    modalites_alternance = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 3000}),
        max_length=3000,
        required=False,
        label="Modalités de l'alternance",
    )
    modalites_pedagogiques = forms.CharField(max_length=200, required=False, label="Modalités pédagogiques")
    duree_indicative = forms.CharField(
        max_length=150, required=False, label="Durée indicative", help_text="Par exemple « 6 mois » ou « 2 ans »."
    )
    nombre_heures_centre = forms.IntegerField(min_value=0, required=False, label="Heures en centre")
    nombre_heures_entreprise = forms.IntegerField(min_value=0, required=False, label="Heures en entreprise")
    nombre_heures_total = forms.IntegerField(min_value=0, required=False, label="Durée totale (heures)")
    organisme_formateur = forms.ModelChoiceField(
        queryset=OrganismeFormateur.objects.none(),
        required=False,
        label="OF formateur",
        empty_label="Notre organisme (organisme responsable)",
    )
    prix_total_ttc = PrixField(max_digits=9, decimal_places=2, min_value=0, required=False, label="Prix total TTC (€)")
    prix_horaire_ttc = PrixField(
        max_digits=6, decimal_places=2, min_value=0, required=False, label="Prix horaire TTC (€)"
    )
    prise_en_charge_frais_possible = forms.BooleanField(required=False, label="Prise en charge des frais possible")
    detail_conditions_prise_en_charge = forms.CharField(
        max_length=600, required=False, label="Détail des conditions de prise en charge"
    )
    lieux = forms.ModelMultipleChoiceField(
        queryset=Lieu.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Lieux de formation",
        help_text="Les lieux de formation de votre organisme (fiche organisme).",
    )
    adresse_inscription = forms.ModelChoiceField(
        queryset=Lieu.objects.none(),
        required=False,
        label="Adresse d'inscription",
        empty_label="Adresse de l'organisme",
    )
    contacts_information = ContactChoiceField(
        queryset=Contact.objects.none(), required=False, label="Contacts pour l'information"
    )
    contacts_inscription = ContactChoiceField(
        queryset=Contact.objects.none(), required=False, label="Contacts pour l'inscription"
    )
    acces_handicapes = forms.CharField(max_length=250, required=False, label="Accès des personnes handicapées")
    convention = forms.FileField(
        required=False,
        label="Convention de formation",
        help_text="Si votre organisme n'a pas d'adresse propre dans la région : copie de la convention de formation "
        "précisant un lieu de formation en présentiel sur notre territoire (PDF ou image).",
    )
    commune_convention = CommuneField(
        required=False,
        label="Commune du lieu de formation précisé par la convention",
    )
    entree_sortie_permanente = OuiNonField(label="Entrée sortie permanente", initial="0")
    debut = DateField(label="Date de début")
    fin = DateField(label="Date de fin")
    inscription_debut = DateField(required=False, label="Début de la période d'inscription")
    inscription_fin = DateField(required=False, label="Fin de la période d'inscription")
    etat_recrutement = forms.TypedChoiceField(
        choices=Session._meta.get_field("etat_recrutement").choices,
        coerce=int,
        widget=forms.RadioSelect,
        initial=1,
        label="État du recrutement",
    )
    places_restantes = forms.IntegerField(min_value=0, required=False, label="Places restantes")
    places_date = DateField(required=False, label="Places restantes indiquées le")
    modalites_recrutement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 3000}),
        max_length=3000,
        required=False,
        label="Modalités de recrutement",
    )
    modalites_inscription = forms.CharField(max_length=255, required=False, label="Modalités d'inscription")
    url = forms.URLField(max_length=400, required=False, label="Site internet de la session", assume_scheme="https")
    blocs = forms.ModelMultipleChoiceField(
        queryset=BlocCompetences.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Blocs de compétences préparés",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, formation, session=None, **kwargs):
        if session is not None and "initial" not in kwargs:
            initial = services.donnees_de_session(session)
            initial["version"] = session.version
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.formation = formation
        self.session = session
        organisme = formation.organisme
        self.fields["organisme_formateur"].queryset = OrganismeFormateur.objects.filter(organisme=organisme, actif=True)
        lieux = Lieu.objects.filter(organisme=organisme, actif=True)
        self.fields["lieux"].queryset = lieux
        self.fields["adresse_inscription"].queryset = lieux
        contacts = (
            Contact.objects.filter(organisme=organisme, actif=True).select_related("user").order_by("user__email")
        )
        self.fields["contacts_information"].queryset = contacts
        self.fields["contacts_inscription"].queryset = contacts
        blocs = BlocCompetences.objects.filter(certification__in=formation.certifications.all())
        if formation.certifiante and blocs.exists():
            self.fields["blocs"].queryset = blocs.select_related("certification")
        else:
            del self.fields["blocs"]

    def clean_public_vise(self):
        codes = self.cleaned_data["public_vise"]
        if len(codes) > 10:
            raise ValidationError("Choisissez au plus 10 publics.")
        return codes

    def clean_convention(self):
        fichier = self.cleaned_data.get("convention")
        if fichier:
            verifier_fichier(fichier)
        return fichier

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("convention") and not cleaned.get("commune_convention"):
            self.add_error("commune_convention", "Indiquez la commune du lieu de formation précisé par la convention.")
        candidate = (
            services.ConventionCandidate(cleaned.get("commune_convention")) if cleaned.get("convention") else None
        )
        conventions = services.conventions_de(self.session, self.formation, candidate)
        erreurs = services.verifier_session(formation=self.formation, donnees=cleaned, conventions=conventions)
        # A rule about a field that failed its own check would only repeat it.
        self.ajouter_erreurs({k: v for k, v in erreurs.items() if k not in self.errors})
        return cleaned

    def donnees(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in services.SESSION_DONNEES}


class DuplicationForm(forms.Form):
    debut = DateField(label="Date de début")
    fin = DateField(label="Date de fin")

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session

    def clean(self):
        cleaned = super().clean()
        action = self.session.action
        erreurs = rules.fusionner(
            rules.regle_dates(cleaned.get("debut"), cleaned.get("fin")),
            rules.regle_entree_sortie_permanente(
                action.entree_sortie_permanente, cleaned.get("debut"), cleaned.get("fin")
            ),
        )
        for champ, messages in erreurs.items():
            for message in messages:
                self.add_error(champ if champ in self.fields else None, message)
        return cleaned
