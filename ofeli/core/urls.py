from django.urls import path

from . import aide, dashboard, health, historique, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("tableau-de-bord/", dashboard.tableau_de_bord, name="tableau_de_bord"),
    path("equipe-offre/", views.staff_home, name="staff_home"),
    path("aide/", aide.index, name="aide"),
    path("aide/<slug:slug>/", aide.sujet, name="aide_sujet"),
    path("donnees-personnelles/", views.politique_donnees, name="politique_donnees"),
    path("sante/", health.sante, name="sante"),
    path("historique/<slug:objet>/<int:pk>/", historique.historique, name="historique"),
    path("technique/courriels/", views.mail_outbox, name="mail_outbox"),
    path("technique/courriels/<str:name>", views.mail_message, name="mail_message"),
]
