from django.urls import path

from . import views

app_name = "referentiels"

urlpatterns = [
    path("communes/", views.communes, name="communes"),
    path("formacodes/", views.formacodes, name="formacodes"),
    path("nsf/", views.nsf, name="nsf"),
    path("romes/", views.romes, name="romes"),
    path("certifications/", views.certifications, name="certifications"),
    path("blocs/", views.blocs, name="blocs"),
]
