from django.urls import path

from . import api, views, views_imports

app_name = "diffusion"

urlpatterns: list = [
    # nightly feeds (équipe offre) and a session's diffusion status (OF)
    path("flux/", views.runs, name="runs"),
    path("flux/<int:pk>/fichier/", views.run_fichier, name="run_fichier"),
    path("partenaires/", views.partenaires, name="partenaires"),
    path("partenaires/<int:pk>/", views.partenaire, name="partenaire"),
    path("session/<int:session_id>/", views.session_statut, name="session_statut"),
    # imports of offer entered elsewhere (équipe offre) and the OF's broken links (engineer H)
    path("imports/", views_imports.imports_liste, name="imports"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/reprendre/", views_imports.import_reprendre, name="import_reprendre"),
    path("liens-en-erreur/", views_imports.liens_en_erreur, name="liens_en_erreur"),
    # partner API (token)
    path("api/v1/openapi.yaml", api.openapi, name="api_openapi"),
    path("api/v1/flux/", api.flux_liste, name="api_flux"),
    # <str:run_id>: a malformed id gets the API's JSON 404, not Django's HTML page (api._run checks it)
    path("api/v1/flux/<str:run_id>/", api.flux_detail, name="api_flux_detail"),
    path("api/v1/flux/<str:run_id>/fichier", api.flux_fichier, name="api_fichier"),
]
