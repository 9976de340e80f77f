from django.contrib import admin
from django.urls import include, path

from ofeli.public import views as public_views

urlpatterns = [
    path("", include("ofeli.core.urls")),
    path("compte/", include("ofeli.accounts.urls")),
    path("organisme/", include("ofeli.organismes.urls")),
    path("offre/", include("ofeli.offre.urls")),
    path("referentiels/", include("ofeli.referentiels.urls")),
    path("validation/", include("ofeli.validation.urls")),
    path("recherche/", include("ofeli.recherche.urls")),
    path("exports/", include("ofeli.exports.urls")),
    path("messagerie/", include("ofeli.messagerie.urls")),
    path("diffusion/", include("ofeli.diffusion.urls")),
    path("formations/", include("ofeli.public.urls")),
    path("campagnes/", include("ofeli.campagnes.urls")),
    path("tableur/", include("ofeli.tableur.urls")),
    path("sitemap.xml", public_views.sitemap, name="sitemap"),
    path("technique/admin/", admin.site.urls),
]
