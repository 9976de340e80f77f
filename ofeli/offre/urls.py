from django.urls import path

from . import views, views_masse

app_name = "offre"

urlpatterns = [
    path("formations/", views.formations_liste, name="formations_liste"),
    path("formations/nouvelle/", views.formation_creer, name="formation_creer"),
    path("formations/<int:pk>/", views.formation_detail, name="formation_detail"),
    path("formations/<int:pk>/modifier/", views.formation_modifier, name="formation_modifier"),
    path("formations/<int:pk>/supprimer/", views.formation_supprimer, name="formation_supprimer"),
    path("formations/<int:pk>/soumettre/", views.formation_soumettre, name="formation_soumettre"),
    path("formations/<int:pk>/archiver/", views.formation_archiver, name="formation_archiver"),
    path("formations/<int:formation_pk>/sessions/nouvelle/", views.session_creer, name="session_creer"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/modifier/", views.session_modifier, name="session_modifier"),
    path("sessions/<int:pk>/dupliquer/", views.session_dupliquer, name="session_dupliquer"),
    path("sessions/<int:pk>/soumettre/", views.session_soumettre, name="session_soumettre"),
    path("sessions/<int:pk>/archiver/", views.session_archiver, name="session_archiver"),
    path("pieces-jointes/<int:pk>/", views.piece_jointe, name="piece_jointe"),
    path("sessions/masse/", views_masse.masse_choisir, name="masse_choisir"),
    path("sessions/masse/modifier/", views_masse.masse_modifier, name="masse_modifier"),
    path("sessions/reconduction/", views_masse.reconduction_choisir, name="reconduction_choisir"),
    path("sessions/reconduction/confirmer/", views_masse.reconduction_confirmer, name="reconduction_confirmer"),
]
