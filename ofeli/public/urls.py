from django.urls import path, register_converter

from . import views


class NumeroCarif:
    regex = "[0-9A-Za-z-]{1,20}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NumeroCarif, "carif")

app_name = "public"

urlpatterns = [
    path("", views.recherche, name="recherche"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("sitemap-<slug:section>.xml", views.sitemap_section, name="sitemap_section"),
    path("<carif:numero>/", views.formation, name="formation_numero"),
    path("<carif:numero>/<slug:slug>/", views.formation, name="formation"),
]
