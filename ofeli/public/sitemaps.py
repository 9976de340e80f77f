"""The public site's sitemap: the search page and one URL per diffused formation (current publications)."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from ofeli.validation.models import Publication

from .services import slug_de


class FormationsSitemap(Sitemap):
    changefreq = "weekly"
    limit = 10_000

    def items(self):
        return (
            Publication.objects.courantes()
            .exclude(formation__numero__isnull=True)
            .order_by("formation_id")
            .values_list("formation__numero", "data__formation__intitule", "validated_at")
        )

    def location(self, item):
        numero, intitule, _ = item
        return reverse("public:formation", kwargs={"numero": numero, "slug": slug_de(intitule)})

    def lastmod(self, item):
        return item[2]


class RechercheSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["public:recherche"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {"recherche": RechercheSitemap, "formations": FormationsSitemap}
