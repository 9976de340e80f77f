from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import lazy

from ofeli.core.emails import send_templated_email

from . import rules
from .models import Civilite
from .passwords import RULES
from .services import cle_activation_utiliser, utilisateur_mot_de_passe_definir


def _rules_help():
    return render_to_string("accounts/_regles_mot_de_passe.html", {"rules": RULES})


rules_help = lazy(_rules_help, str)


EMAIL_ERRORS = {"invalid": "Saisissez une adresse e-mail valide (par exemple prenom.nom@exemple.fr)."}


def new_password_fields():
    password1 = forms.CharField(
        label="Nouveau mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "data-password-rules": "regles-mdp"}),
        help_text=rules_help(),
    )
    password2 = forms.CharField(
        label="Confirmez le nouveau mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Saisissez le même mot de passe, pour vérification.",
    )
    return password1, password2


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label="Adresse e-mail",
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Adresse e-mail ou mot de passe incorrect.",
    }

    def clean_username(self):
        # The e-mail is case-insensitive: one spelling for the backend and for the throttling.
        return self.cleaned_data["username"].strip().lower()


class OfeliSetPasswordForm(auth_forms.SetPasswordForm):
    """Choose a password (activation, reset): the policy's messages go under the first field."""

    error_messages = {"password_mismatch": "Les deux mots de passe ne sont pas identiques."}  # nosec B105  # a message
    new_password1, new_password2 = new_password_fields()

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)

    def save(self, commit=True):
        return utilisateur_mot_de_passe_definir(user=self.user, password=self.cleaned_data["new_password1"])


class ActivationForm(OfeliSetPasswordForm):
    """The password chosen on an activation link; saving uses the key (single use)."""

    new_password1, new_password2 = new_password_fields()
    new_password1.label = "Mot de passe"
    new_password2.label = "Confirmez le mot de passe"

    def __init__(self, user, token, *args, **kwargs):
        self.token = token
        super().__init__(user, *args, **kwargs)

    def save(self, commit=True):
        return cle_activation_utiliser(token=self.token, password=self.cleaned_data["new_password1"])


class OfeliPasswordChangeForm(auth_forms.PasswordChangeForm):
    error_messages = {
        "password_mismatch": "Les deux mots de passe ne sont pas identiques.",  # nosec B105  # a message
        "password_incorrect": "Votre mot de passe actuel est incorrect : saisissez-le à nouveau.",  # nosec B105
    }
    old_password = forms.CharField(
        label="Mot de passe actuel",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1, new_password2 = new_password_fields()
    field_order = ["old_password", "new_password1", "new_password2"]

    clean = OfeliSetPasswordForm.clean
    save = OfeliSetPasswordForm.save


class OfeliPasswordResetForm(auth_forms.PasswordResetForm):
    """ "Réinitialiser mon mot de passe", which also activates a contact preloaded by the GIP.

    Django skips users whose password is unusable; OFeli must not: a contact preloaded by the GIP
    (or accepted but not yet activated) has no password, and this is how they choose one. Inactive
    users (deactivated or anonymised) still get nothing. The page shown afterwards is the same
    whether the address is known or not.
    """

    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email):
        user_model = get_user_model()
        return user_model._default_manager.filter(email__iexact=email.strip(), is_active=True, anonymised_at=None)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        lien = settings.SITE_URL + reverse(
            "accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        send_templated_email(
            to=to_email,
            template_base="accounts/emails/reinitialisation",
            context={
                "user": context["user"],
                "lien": lien,
                "activation": not context["user"].has_usable_password(),
                "validite_heures": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )


class DemandeCompteForm(forms.Form):
    """The public form "Créer un compte". Its rules live in accounts.rules."""

    raison_sociale = forms.CharField(label="Raison sociale", max_length=250)
    siret = forms.CharField(
        label="SIRET",
        max_length=20,
        help_text="14 chiffres, sans espace.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    nda = forms.CharField(
        label="Numéro de déclaration d'activité",
        max_length=20,
        help_text="11 chiffres, tel qu'il figure sur le récépissé de la DREETS.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    ligne1 = forms.CharField(
        label="Adresse",
        max_length=50,
        help_text="Si votre organisme a un établissement dans la région, indiquez son adresse.",
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    ligne2 = forms.CharField(
        label="Complément d'adresse",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    code_postal = forms.CharField(
        label="Code postal",
        max_length=5,
        min_length=5,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    ville = forms.CharField(
        label="Ville", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    code_insee = forms.CharField(
        label="Code INSEE de la commune",
        max_length=5,
        required=False,
        help_text="Facultatif : 5 caractères (par exemple 45234 pour Orléans). Différent du code postal.",
    )
    convention = forms.FileField(
        label="Copie d'une convention de formation (PDF)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    civilite = forms.ChoiceField(label="Civilité", choices=[("", "—"), *Civilite.choices])
    nom = forms.CharField(label="Nom", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    prenom = forms.CharField(
        label="Prénom", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    telephone = forms.CharField(
        label="Téléphone", max_length=25, widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    )
    consentement = forms.BooleanField(
        label="J'accepte la politique de gestion des données personnelles d'OFeli.",
        required=True,
        error_messages={
            "required": "Votre accord avec la politique de gestion des données personnelles est nécessaire "
            "pour créer un compte."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deja_inscrit = False
        self.fields["consentement"].help_text = (
            f'<a href="{reverse("core:politique_donnees")}">Lire la politique de gestion des données personnelles</a>'
            " (elle s'ouvre dans cette fenêtre)."
        )
        max_mo = settings.OFELI_MAX_ATTACHMENT_SIZE // (1024 * 1024)
        self.fields["convention"].help_text = (
            "Obligatoire pour un organisme situé hors région sans adresse propre dans la région : la convention "
            f"doit préciser un lieu de formation en présentiel dans la région. Fichier PDF de {max_mo} Mo au plus."
        )

    def clean_siret(self):
        return rules.siret_verifier(self.cleaned_data["siret"])

    def clean_nda(self):
        return rules.nda_verifier(self.cleaned_data["nda"])

    def clean_code_postal(self):
        value = self.cleaned_data["code_postal"].strip()
        if not value.isdigit():
            raise ValidationError("Le code postal doit comporter 5 chiffres.")
        return value

    def clean_convention(self):
        fichier = self.cleaned_data.get("convention")
        if fichier:
            rules.pdf_verifier(fichier)
        return fichier

    def clean(self):
        data = super().clean()
        erreurs = {}
        if data.get("siret") and data.get("nda") is not None:
            erreurs.update(rules.doublon_verifier(nda=data.get("nda"), siret=data.get("siret")))
        if erreurs:
            self.deja_inscrit = True
        if "code_postal" in data and "ville" in data:
            adresse, erreurs_adresse = rules.adresse_resoudre(
                code_postal=data["code_postal"], ville=data["ville"], code_insee=data.get("code_insee", "")
            )
            erreurs.update(erreurs_adresse)
            data["adresse"] = adresse
            convention_absente = not data.get("convention") and "convention" not in self.errors
            if not erreurs_adresse and adresse["hors_region"] and convention_absente:
                erreurs["convention"] = [rules.message_convention_requise()]
        for field, messages_ in erreurs.items():
            for message in messages_:
                self.add_error(field, message)
        return data


class RefusForm(forms.Form):
    motif = forms.CharField(
        label="Motif du refus",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text="Il est envoyé par e-mail au demandeur.",
        error_messages={"required": "Le motif du refus est obligatoire."},
    )

    def clean_motif(self):
        motif = self.cleaned_data["motif"].strip()
        if not motif:
            raise ValidationError("Le motif du refus est obligatoire.")
        return motif
