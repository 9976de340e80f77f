from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from .models import CleActivation, DemandeCompte, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    exclude = ["password", "user_permissions", "groups"]
    readonly_fields = ["last_login", "date_joined", "anonymised_at"]


@admin.register(CleActivation)
class CleActivationAdmin(admin.ModelAdmin):
    """Read-only: keys are created by services.cle_activation_envoyer."""

    list_display = ["user", "organisme", "kind", "created_at", "expires_at", "used_at", "revoked_at"]
    list_filter = ["kind"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DemandeCompte)
class DemandeCompteAdmin(admin.ModelAdmin):
    """Read-only: requests are processed on the staff screens (accounts:demandes)."""

    list_display = ["raison_sociale", "siret", "nda", "statut", "created_at", "traitee_le"]
    list_filter = ["statut"]
    search_fields = ["raison_sociale", "siret", "nda", "email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _admin_login(request, extra_context=None):
    """One login page for everyone: the admin's own form would bypass OFeli's throttling."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login"))


admin.site.login = _admin_login
