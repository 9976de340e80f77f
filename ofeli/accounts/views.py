"""Access to OFeli: create an account, activate it, log in, reset or change a password;
the staff's screens for account requests and activation keys.

Every view carries a gate mark (public, authenticated, staff_required); class-based views get
theirs in urls.py.
"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ofeli.core.identifiants import region_du_nda
from ofeli.core.permissions import staff_required
from ofeli.core.region import current_region
from ofeli.organismes.gate import public

from . import services, throttling
from .forms import (
    ActivationForm,
    DemandeCompteForm,
    LoginForm,
    OfeliPasswordChangeForm,
    OfeliPasswordResetForm,
    OfeliSetPasswordForm,
    RefusForm,
)
from .models import CleActivation, DemandeCompte, User

ACTIVATION_SESSION_KEY = "_ofeli_cle_activation"


# --- Se connecter ---------------------------------------------------------------------------
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm

    def post(self, request, *args, **kwargs):
        # Too many recent failures on this account: answer before checking any password, with
        # the same page whether the e-mail is known or not.
        state = throttling.etat(request.POST.get("username"))
        if state.bloque:
            return throttling.lockout_page(request, state.attente)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # From the 5th failure on, say at once how long the next try must wait.
        state = throttling.etat(form.data.get("username"))
        if state.bloque:
            return throttling.lockout_page(self.request, state.attente)
        return super().form_invalid(form)

    def get_default_redirect_url(self):
        if self.request.user.is_staff:
            return reverse("core:staff_home")
        return reverse("core:tableau_de_bord")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "Vous êtes déconnecté(e).")
        return response


# --- Réinitialiser mon mot de passe ---------------------------------------------------------
class PasswordResetView(auth_views.PasswordResetView):
    form_class = OfeliPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = OfeliSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = OfeliPasswordChangeForm
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


# --- Clé d'activation -----------------------------------------------------------------------
def _cle_invalide(request, raison: str):
    status = 404 if raison == "inconnue" else 410
    return render(request, "accounts/activation_invalide.html", {"raison": raison}, status=status)


@public
def activer(request, token):
    """The link of the e-mail: checks the key, keeps it in the session and drops it from the URL
    (so that it leaks neither in the Referer nor in the history of the next page)."""
    try:
        services.cle_activation_trouver(token)
    except services.CleActivationInvalide as exc:
        return _cle_invalide(request, exc.raison)
    request.session[ACTIVATION_SESSION_KEY] = token
    return redirect("accounts:activation_mot_de_passe")


@public
def activation_mot_de_passe(request):
    token = request.session.get(ACTIVATION_SESSION_KEY)
    try:
        cle = services.cle_activation_trouver(token)
    except services.CleActivationInvalide as exc:
        return _cle_invalide(request, exc.raison)
    form = ActivationForm(cle.user, token, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            form.save()
        except services.CleActivationInvalide as exc:
            return _cle_invalide(request, exc.raison)
        request.session.pop(ACTIVATION_SESSION_KEY, None)
        messages.success(
            request, "Votre compte est activé. Connectez-vous avec votre adresse e-mail et votre nouveau mot de passe."
        )
        return redirect("accounts:login")
    return render(request, "accounts/activation.html", {"form": form, "cle": cle})


# --- Créer un compte ------------------------------------------------------------------------
@public
def demande_creer(request):
    form = DemandeCompteForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.demande_compte_creer(donnees=form.cleaned_data, convention=form.cleaned_data.get("convention"))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            form.deja_inscrit = bool({"siret", "nda"} & set(exc.message_dict))
        else:
            return redirect("accounts:demande_envoyee")
    return render(request, "accounts/demande_creer.html", {"form": form})


@public
def demande_envoyee(request):
    return render(request, "accounts/demande_envoyee.html", {})


# --- Équipe offre: demandes de compte -------------------------------------------------------
STATUT_FILTRES = {
    "en_attente": DemandeCompte.Statut.EN_ATTENTE,
    "acceptee": DemandeCompte.Statut.ACCEPTEE,
    "refusee": DemandeCompte.Statut.REFUSEE,
}


@staff_required
def demandes(request):
    statut = request.GET.get("statut", "en_attente")
    qs = DemandeCompte.objects.select_related("traitee_par").order_by("-created_at", "-pk")
    if statut in STATUT_FILTRES:
        qs = qs.filter(statut=STATUT_FILTRES[statut])
        if statut == "en_attente":
            qs = qs.order_by("created_at", "pk")
    else:
        statut = "toutes"
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    filtres = [("en_attente", "En attente"), ("acceptee", "Acceptées"), ("refusee", "Refusées"), ("toutes", "Toutes")]
    return render(
        request,
        "accounts/demandes.html",
        {"page": page, "statut": statut, "filtres": filtres, "en_attente": DemandeCompte.Statut.EN_ATTENTE},
    )


def _demande_context(demande, **extra):
    cle = None
    if demande.organisme_id:
        cle = (
            CleActivation.objects.filter(organisme=demande.organisme, user__email__iexact=demande.email)
            .select_related("user")
            .first()
        )
    return {
        "demande": demande,
        "cle": cle,
        "en_attente": DemandeCompte.Statut.EN_ATTENTE,
        "nda_region": region_du_nda(demande.nda),
        "hors_region": not current_region().contient_departement(demande.departement),
        **extra,
    }


@staff_required
def demande(request, pk):
    demande = get_object_or_404(DemandeCompte.objects.select_related("traitee_par", "organisme"), pk=pk)
    return render(request, "accounts/demande.html", _demande_context(demande, refus_form=RefusForm()))


@staff_required
def demande_convention(request, pk):
    """The training agreement attached to a request, for the staff only (private storage)."""
    demande = get_object_or_404(DemandeCompte, pk=pk)
    if not demande.convention:
        raise Http404
    try:
        fichier = demande.convention.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        fichier, as_attachment=True, filename=f"convention-{demande.siret}.pdf", content_type="application/pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_POST
def demande_accepter(request, pk):
    demande = get_object_or_404(DemandeCompte, pk=pk)
    try:
        demande = services.demande_compte_accepter(demande=demande, par=request.user)
    except services.DemandeDejaTraitee as exc:
        messages.error(request, f"Cette demande a déjà été traitée ({exc.demande.get_statut_display().lower()}).")
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for error in errors:
                messages.error(request, f"Impossible d'accepter la demande : {error}")
    else:
        messages.success(
            request,
            f"Demande acceptée : l'organisme {demande.raison_sociale} est créé et une clé d'activation "
            f"a été envoyée à {demande.email}.",
        )
    return redirect("accounts:demande", pk=demande.pk)


@staff_required
def demande_refuser(request, pk):
    demande = get_object_or_404(DemandeCompte, pk=pk)
    if request.method != "POST":
        return redirect("accounts:demande", pk=pk)
    form = RefusForm(request.POST)
    if form.is_valid():
        try:
            services.demande_compte_refuser(demande=demande, par=request.user, motif=form.cleaned_data["motif"])
        except services.DemandeDejaTraitee as exc:
            messages.error(request, f"Cette demande a déjà été traitée ({exc.demande.get_statut_display().lower()}).")
        else:
            messages.success(request, f"Demande refusée : le motif a été envoyé à {demande.email}.")
        return redirect("accounts:demande", pk=pk)
    return render(request, "accounts/demande.html", _demande_context(demande, refus_form=form), status=400)


# --- Équipe offre: comptes à activer, nouvelle clé -----------------------------------------
@staff_required
def activations(request):
    """Contacts who have not chosen a password yet, with their last key."""
    derniere = CleActivation.objects.filter(user=OuterRef("pk")).order_by("-created_at", "-pk")
    users = (
        User.objects.filter(is_staff=False, is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .annotate(derniere_cle_id=Subquery(derniere.values("pk")[:1]))
        .order_by("email")
    )
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    cles = CleActivation.objects.in_bulk([u.derniere_cle_id for u in page if u.derniere_cle_id])
    lignes = [(u, cles.get(u.derniere_cle_id)) for u in page]
    return render(request, "accounts/activations.html", {"page": page, "lignes": lignes})


@staff_required
@require_POST
def cle_renvoyer(request, user_id):
    user = get_object_or_404(User, pk=user_id, is_staff=False, is_active=True)
    if user.has_usable_password():
        messages.info(request, f"Le compte {user.email} est déjà activé : aucune clé n'a été envoyée.")
        return redirect("accounts:activations")
    derniere = CleActivation.objects.filter(user=user).first()
    organisme = derniere.organisme if derniere else None
    if organisme is None:
        contact = user.contacts.filter(actif=True).select_related("organisme").first()
        organisme = contact.organisme if contact else None
    services.cle_activation_envoyer(user=user, organisme=organisme, envoyee_par=request.user)
    messages.success(request, f"Une nouvelle clé d'activation a été envoyée à {user.email}.")
    suivant = request.POST.get("suivant", "")
    if url_has_allowed_host_and_scheme(suivant, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(suivant)
    return redirect("accounts:activations")
