from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.liste, name="liste"),
    path("exporter/", views.exporter, name="exporter"),
    path("<int:export_id>/", views.detail, name="detail"),
    path("<int:export_id>/telecharger/", views.telecharger, name="telecharger"),
]
