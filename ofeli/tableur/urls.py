from django.urls import path

from . import views

app_name = "tableur"

urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("modele/", views.modele, name="modele"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/correspondance/", views.correspondance, name="correspondance"),
    path("<int:pk>/importer/", views.importer, name="importer"),
]
