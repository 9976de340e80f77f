from django.urls import path

from . import views

app_name = "organismes"

urlpatterns = [
    path("", views.fiche, name="fiche"),
    path("modifier/", views.fiche_modifier, name="fiche_modifier"),
    path("identite/", views.identite_demander, name="identite_demander"),
    path("lieux/", views.lieux, name="lieux"),
    path("lieux/ajouter/", views.lieu_ajouter, name="lieu_ajouter"),
    path("lieux/<int:lieu_id>/modifier/", views.lieu_modifier, name="lieu_modifier"),
    path("lieux/<int:lieu_id>/desactiver/", views.lieu_desactiver, name="lieu_desactiver"),
    path("lieux/<int:lieu_id>/reactiver/", views.lieu_reactiver, name="lieu_reactiver"),
    path("formateurs/", views.formateurs, name="formateurs"),
    path("formateurs/ajouter/", views.formateur_ajouter, name="formateur_ajouter"),
    path("formateurs/<int:formateur_id>/modifier/", views.formateur_modifier, name="formateur_modifier"),
    path("formateurs/<int:formateur_id>/desactiver/", views.formateur_desactiver, name="formateur_desactiver"),
    path("formateurs/<int:formateur_id>/reactiver/", views.formateur_reactiver, name="formateur_reactiver"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/inviter/", views.contact_inviter, name="contact_inviter"),
    path("contacts/<int:contact_id>/modifier/", views.contact_modifier, name="contact_modifier"),
    path("contacts/<int:contact_id>/desactiver/", views.contact_desactiver, name="contact_desactiver"),
    path("contacts/<int:contact_id>/reactiver/", views.contact_reactiver, name="contact_reactiver"),
    path("changer/", views.changer_organisme, name="changer"),
    path("mes-donnees/", views.mes_donnees, name="mes_donnees"),
    path("mes-donnees/export/", views.mes_donnees_export, name="mes_donnees_export"),
    path("equipe/organismes/", views.staff_liste, name="staff_liste"),
    path("equipe/organismes/<int:organisme_id>/", views.staff_detail, name="staff_detail"),
    path(
        "equipe/organismes/<int:organisme_id>/contacts/ajouter/",
        views.staff_contact_ajouter,
        name="staff_contact_ajouter",
    ),
    path("equipe/contacts/<int:contact_id>/modifier/", views.staff_contact_modifier, name="staff_contact_modifier"),
    path(
        "equipe/contacts/<int:contact_id>/desactiver/", views.staff_contact_desactiver, name="staff_contact_desactiver"
    ),
    path("equipe/contacts/<int:contact_id>/reactiver/", views.staff_contact_reactiver, name="staff_contact_reactiver"),
    path("equipe/demandes/", views.staff_demandes, name="staff_demandes"),
    path("equipe/demandes/<int:demande_id>/", views.staff_demande, name="staff_demande"),
    path(
        "equipe/contacts/<int:contact_id>/anonymiser/",
        views.staff_contact_anonymiser,
        name="staff_contact_anonymiser",
    ),
]
