from django.urls import path

from . import views

app_name = "validation"

urlpatterns = [
    path("", views.file, name="file"),
    path("formations/<int:pk>/", views.formation_element, name="formation"),
    path("sessions/<int:pk>/", views.session_element, name="session"),
    path("suivi/<int:pk>/", views.suivi, name="suivi"),
    path("complements/<int:pk>/corrections/", views.corrections_effectuees, name="corrections_effectuees"),
]
