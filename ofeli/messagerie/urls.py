from django.urls import path

from . import views

app_name = "messagerie"

urlpatterns = [
    path("", views.fils, name="fils"),
    path("nouveau/", views.nouveau, name="nouveau"),
    path("fil/<int:fil_id>/", views.fil, name="fil"),
    path("piece/<int:piece_id>/", views.piece, name="piece"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:notification_id>/lue/", views.notification_lue, name="notification_lue"),
    path("notifications/toutes-lues/", views.notifications_toutes_lues, name="notifications_toutes_lues"),
    path("preferences/", views.preferences, name="preferences"),
]
