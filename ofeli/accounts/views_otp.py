"""Second factor screens for the équipe offre: enrol an authenticator application (QR code and secret shown
once), enter a code at login, backup codes shown once, and "Double authentification" (see and remove one's
applications, new backup codes). Rules and writes are in `otp.py`; `otp.StaffSecondFactorMiddleware` sends a
non-verified staff session here.
"""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from . import otp

SESSION_INSCRIPTION = "_ofeli_otp_inscription"
SESSION_CODES = "_ofeli_otp_codes_secours"


def staff_ou_superuser(view):
    """Gate of these screens: a logged-in member of the équipe offre (or a superuser), verified or not yet."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not otp.concerne(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.ofeli_gate = "staff"
    return wrapper


def _verifie_ou_libre(request) -> bool:
    """Managing applications needs a verified session, unless the second factor is not required here."""
    return otp.est_verifie(request.user) or not otp.exige(request.user)


def _suivant(request) -> str:
    """The page to go to after the code (`next`, same site only), else the staff home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("core:staff_home")


def _avec_suivant(name: str, suivant: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': suivant})}"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code de vérification",
        max_length=32,
        help_text="Les 6 chiffres affichés par votre application, ou un code de secours de 8 caractères.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
        error_messages={"required": "Saisissez le code affiché par votre application."},
    )


class InscriptionForm(forms.Form):
    code = forms.CharField(
        label="Code affiché par l'application",
        max_length=32,
        help_text="6 chiffres, renouvelés toutes les 30 secondes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Saisissez le code affiché par l'application."},
    )
    nom = forms.CharField(
        label="Nom de cet appareil (facultatif)",
        max_length=64,
        required=False,
        help_text="Par exemple « Téléphone professionnel », pour le reconnaître dans la liste de vos appareils.",
    )

    def clean_nom(self):
        nom = self.cleaned_data["nom"].strip()
        if "\x00" in nom:
            raise forms.ValidationError("Ce nom contient un caractère non autorisé.")
        return nom


def _device_en_cours(request):
    device_id = request.session.get(SESSION_INSCRIPTION)
    if not device_id:
        return None
    return otp.TOTPDevice.objects.filter(user=request.user, pk=device_id, confirmed=False).first()


@staff_ou_superuser
@require_http_methods(["GET", "POST"])
def inscrire(request):
    """Enrol an application: the QR code and the secret of a new device, confirmed with a code it shows."""
    if otp.a_un_appareil(request.user) and not _verifie_ou_libre(request):
        # Adding an application needs the second factor already: enter a code first.
        return redirect(_avec_suivant("accounts:otp_verifier", reverse("accounts:otp_inscrire")))
    device = _device_en_cours(request)
    if device is None:
        device = otp.totp_preparer(user=request.user)
        request.session[SESSION_INSCRIPTION] = device.pk
    form = InscriptionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = otp.totp_confirmer(
                user=request.user, device_id=device.pk, code=form.cleaned_data["code"], nom=form.cleaned_data["nom"]
            )
        except otp.CodeRefuse as exc:
            form.add_error("code", exc.message)
            status = 429 if exc.attente else 200
        else:
            request.session.pop(SESSION_INSCRIPTION, None)
            otp.session_verifier(request, device)
            messages.success(request, "Votre application d'authentification est enregistrée.")
            if codes:
                request.session[SESSION_CODES] = codes
                return redirect(_avec_suivant("accounts:otp_codes_secours", _suivant(request)))
            return redirect(_suivant(request))
    context = {
        "form": form,
        "qr": otp.qr_svg_data_uri(device),
        "secret": otp.secret_base32(device),
        "next": _suivant(request),
        "premiere": not otp.a_un_appareil(request.user),
    }
    return render(request, "accounts/otp/inscrire.html", context, status=status)


@staff_ou_superuser
@require_http_methods(["GET", "POST"])
def verifier(request):
    """The code asked at each login."""
    if not otp.a_un_appareil(request.user):
        return redirect(_avec_suivant("accounts:otp_inscrire", _suivant(request)))
    if otp.est_verifie(request.user):
        return redirect(_suivant(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = otp.code_verifier(user=request.user, code=form.cleaned_data["code"])
        except otp.CodeRefuse as exc:
            form.add_error("code", exc.message)
            status = 429 if exc.attente else 200
        else:
            otp.session_verifier(request, device)
            if isinstance(device, otp.StaticDevice):
                restants = otp.codes_secours_restants(request.user)
                messages.warning(
                    request,
                    f"Vous vous êtes connecté(e) avec un code de secours : il vous en reste {restants}. "
                    "Générez-en de nouveaux depuis « Double authentification » si besoin.",
                )
            return redirect(_suivant(request))
    response = render(request, "accounts/otp/verifier.html", {"form": form, "next": _suivant(request)}, status=status)
    if status == 429:
        response["Retry-After"] = "60"
    return response


@staff_ou_superuser
def codes_secours(request):
    """The backup codes, shown once right after they were made."""
    codes = request.session.pop(SESSION_CODES, None)
    if not codes:
        messages.info(request, "Les codes de secours ne sont affichés qu'une fois. Générez-en de nouveaux si besoin.")
        return redirect("accounts:otp_appareils")
    return render(request, "accounts/otp/codes_secours.html", {"codes": codes, "next": _suivant(request)})


@staff_ou_superuser
def appareils(request):
    """Double authentification: the user's applications and backup codes."""
    if not _verifie_ou_libre(request):
        return redirect(_avec_suivant("accounts:otp_verifier", request.path))
    context = {
        "appareils": otp.totp_confirmes(request.user),
        "codes_restants": otp.codes_secours_restants(request.user),
        "exige": otp.exige(request.user),
    }
    return render(request, "accounts/otp/appareils.html", context)


@staff_ou_superuser
@require_http_methods(["GET", "POST"])
def codes_generer(request):
    if not _verifie_ou_libre(request) or not otp.a_un_appareil(request.user):
        return redirect("accounts:otp_appareils")
    if request.method == "POST":
        request.session[SESSION_CODES] = otp.codes_secours_generer(user=request.user)
        return redirect("accounts:otp_codes_secours")
    return render(request, "accounts/otp/codes_generer.html", {})


@staff_ou_superuser
@require_http_methods(["GET", "POST"])
def appareil_supprimer(request, device_id):
    if not _verifie_ou_libre(request):
        return redirect("accounts:otp_appareils")
    device = otp.totp_confirmes(request.user).filter(pk=device_id).first()
    if device is None:
        raise Http404
    dernier = otp.totp_confirmes(request.user).count() == 1
    if request.method == "POST":
        otp.appareil_supprimer(user=request.user, device_id=device.pk)
        messages.success(request, f"L'appareil « {device.name} » est supprimé.")
        return redirect("accounts:otp_appareils")
    return render(request, "accounts/otp/appareil_supprimer.html", {"appareil": device, "dernier": dernier})
