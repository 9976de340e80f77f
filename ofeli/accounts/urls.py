"""Routes of the accounts app. Class-based views get their gate mark here, on the function
that as_view() returns (the URL-walk test looks for `ofeli_gate`)."""

from django.urls import path

from ofeli.organismes.gate import authenticated, public

from . import views, views_otp

app_name = "accounts"

urlpatterns = [
    path("connexion/", public(views.LoginView.as_view()), name="login"),
    path("deconnexion/", public(views.LogoutView.as_view()), name="logout"),
    # Réinitialiser mon mot de passe (also how a contact preloaded by the GIP activates their account)
    path("mot-de-passe/oublie/", public(views.PasswordResetView.as_view()), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", public(views.PasswordResetDoneView.as_view()), name="password_reset_done"),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        public(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/reinitialise/",
        public(views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("mot-de-passe/modifier/", authenticated(views.PasswordChangeView.as_view()), name="password_change"),
    path("mot-de-passe/modifie/", authenticated(views.PasswordChangeDoneView.as_view()), name="password_change_done"),
    # Clé d'activation
    path("activation/mot-de-passe/", views.activation_mot_de_passe, name="activation_mot_de_passe"),
    path("activation/<str:token>/", views.activer, name="activer"),
    # Créer un compte
    path("creer/", views.demande_creer, name="demande_creer"),
    path("creer/envoyee/", views.demande_envoyee, name="demande_envoyee"),
    # Équipe offre
    path("demandes/", views.demandes, name="demandes"),
    path("demandes/<int:pk>/", views.demande, name="demande"),
    path("demandes/<int:pk>/convention/", views.demande_convention, name="demande_convention"),
    path("demandes/<int:pk>/accepter/", views.demande_accepter, name="demande_accepter"),
    path("demandes/<int:pk>/refuser/", views.demande_refuser, name="demande_refuser"),
    path("activations/", views.activations, name="activations"),
    path("activations/<int:user_id>/nouvelle-cle/", views.cle_renvoyer, name="cle_renvoyer"),
    # Double authentification (équipe offre): views_otp.py, enforced by otp.StaffSecondFactorMiddleware
    path("double-authentification/", views_otp.appareils, name="otp_appareils"),
    path("double-authentification/code/", views_otp.verifier, name="otp_verifier"),
    path("double-authentification/inscrire/", views_otp.inscrire, name="otp_inscrire"),
    path("double-authentification/codes-de-secours/", views_otp.codes_secours, name="otp_codes_secours"),
    path("double-authentification/codes-de-secours/generer/", views_otp.codes_generer, name="otp_codes_generer"),
    path(
        "double-authentification/<int:device_id>/supprimer/",
        views_otp.appareil_supprimer,
        name="otp_appareil_supprimer",
    ),
]
