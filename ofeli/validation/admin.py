"""Read-only: every write of the workflow goes through ofeli.validation.workflow."""

from django.contrib import admin

from .models import Compteur, DemandeComplement, Publication, Transition


class LectureSeule(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Publication)
class PublicationAdmin(LectureSeule):
    list_display = ["formation", "numero", "organisme", "fonds_publics", "validated_at", "closed_at", "closed_reason"]
    list_filter = ["closed_reason", "fonds_publics"]
    search_fields = ["formation__intitule", "formation__numero", "organisme__raison_sociale"]
    list_select_related = ["formation", "organisme"]


@admin.register(Transition)
class TransitionAdmin(LectureSeule):
    list_display = ["created_at", "formation", "objet", "etat_avant", "etat_apres", "acteur", "user"]
    list_filter = ["objet", "acteur", "etat_apres"]
    search_fields = ["formation__intitule", "message"]
    list_select_related = ["formation", "user"]


@admin.register(DemandeComplement)
class DemandeComplementAdmin(LectureSeule):
    list_display = ["demandee_at", "formation", "session", "statut", "demandee_par", "traitee_at"]
    list_filter = ["statut"]
    search_fields = ["formation__intitule", "message"]


@admin.register(Compteur)
class CompteurAdmin(LectureSeule):
    list_display = ["nom", "valeur"]
