from django.urls import path

from . import views

app_name = "campagnes"

urlpatterns = [
    path("", views.liste, name="liste"),
    path("nouvelle/", views.nouvelle, name="nouvelle"),
    path("rappels/", views.rappels, name="rappels"),
    path("<int:campagne_id>/", views.campagne, name="campagne"),
    path("<int:campagne_id>/confirmer/", views.confirmer, name="confirmer"),
    path("<int:campagne_id>/suivi/", views.suivi, name="suivi"),
    path("<int:campagne_id>/suivi/<int:organisme_id>/", views.suivi_organisme, name="suivi_organisme"),
    path("<int:campagne_id>/relancer/", views.relancer_tous, name="relancer_tous"),
    path("<int:campagne_id>/relancer/<int:organisme_id>/", views.relancer, name="relancer"),
    path("<int:campagne_id>/cloturer/", views.cloturer, name="cloturer"),
]
