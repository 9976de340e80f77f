import datetime
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ofeli.core.region import current_region
from ofeli.offre import services as offre_services
from ofeli.offre.models import Dispositif, Etat, ModalitesEnseignement
from ofeli.public.index import publication_desindexer
from ofeli.recherche.index import indexer_formation
from ofeli.recherche.models import DocumentRecherche, Kind
from ofeli.validation import workflow
from ofeli.validation.models import Publication
from tests.factories import FormationFactory, LieuFactory, SessionFactory

from .conftest import publier

pytestmark = pytest.mark.django_db


def url_de(formation):
    return reverse("public:formation_numero", kwargs={"numero": formation.numero})


def fiche(client, formation, **params):
    response = client.get(url_de(formation), params, follow=True)
    return response


def intitules(response) -> list[str]:
    return re.findall(r'<h3 class="h5 mb-1"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def test_formation_page_is_public_and_shows_the_validated_offer(client, staff_user, formation_soumise_factory, bourges):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publier(formation, staff_user)
    session = formation.actions.get().sessions.get()
    session.refresh_from_db()
    response = fiche(client, formation)
    assert response.status_code == 200
    html = response.content.decode()
    region = current_region()
    assert f"<title>Soudeur TIG — {formation.organisme.raison_sociale} — {region.site_public}</title>" in html
    assert '<meta name="description" content="Maîtriser les techniques de soudage' in html
    assert f"Session du {session.debut:%d/%m/%Y} au {session.fin:%d/%m/%Y}" in html
    assert "Places restantes" in html and ">12 (au" in html
    assert "Conseillère formation" in html and "(inscriptions)" in html
    assert "Bourges" in html
    assert formation.organisme.raison_sociale in html
    # OF / staff menu and login never show
    assert "Se déconnecter" not in html and "Menu principal" not in html


def test_carif_number_is_at_the_very_bottom_of_the_page(client, staff_user, formation_soumise_factory, bourges):
    formation = formation_soumise_factory()
    publier(formation, staff_user)
    session = formation.actions.get().sessions.get()
    session.refresh_from_db()
    assert session.numero
    html = fiche(client, formation).content.decode()
    article = html[html.index('<article class="public-fiche">') : html.index("</article>")]
    dernier_bloc = article[article.index('id="numeros-carif"') :]
    assert session.numero in dernier_bloc
    assert "<section" not in dernier_bloc[1:]  # nothing after it in the page's content
    assert article.index(session.numero) == article.index('id="numeros-carif"') + dernier_bloc.index(session.numero)


def test_site_name_comes_from_the_region(client, staff_user, formation_soumise_factory, settings, tmp_path):
    import json

    from ofeli.core import region as region_module

    data = json.loads((region_module.REGIONS_DIR / "centre-val-de-loire.json").read_text())
    data["site_public"] = "Formation Autre Région"
    fichier = tmp_path / "autre.json"
    fichier.write_text(json.dumps(data))
    settings.OFELI_REGION_FILE = str(fichier)
    response = client.get(reverse("public:recherche"))
    assert "— Formation Autre Région</title>" in response.content.decode()


def test_pages_are_cacheable(client, staff_user, formation_soumise_factory):
    formation = formation_soumise_factory()
    publier(formation, staff_user)
    for response in (fiche(client, formation), client.get(reverse("public:recherche"), {"q": "soudeur"})):
        assert response.status_code == 200
        assert "public" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]
        assert "Set-Cookie" not in response.headers


def test_formation_page_is_served_from_cache(
    client, staff_user, formation_soumise_factory, django_assert_max_num_queries
):
    formation = formation_soumise_factory()
    publier(formation, staff_user)
    url = fiche(client, formation).redirect_chain[-1][0]
    with django_assert_max_num_queries(1):  # the current publication's lookup only
        assert client.get(url).status_code == 200


def test_a_new_validation_invalidates_the_cache(client, staff_user, saisisseur, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publier(formation, staff_user)
    url = fiche(client, formation).redirect_chain[-1][0]
    assert "Maîtriser les techniques" in client.get(url).content.decode()
    assert "Soudeur TIG" in client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()
    offre_services.formation_modifier(
        formation=formation, user=saisisseur.user, donnees={"objectif": "Souder en toute sécurité."}, version=None
    )
    publier(formation, staff_user)
    html = client.get(url).content.decode()
    assert "Souder en toute sécurité." in html and "Maîtriser les techniques" not in html
    recherche = client.get(reverse("public:recherche"), {"q": "sécurité"}).content.decode()
    assert intitules_de(recherche) == ["Soudeur TIG"]


def intitules_de(html):
    return re.findall(r'<h3 class="h5 mb-1"><a href="[^"]+">([^<]+)</a>', html)


def test_stable_url_redirects_to_the_canonical_slug(client, staff_user, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG à l'arc")
    publier(formation, staff_user)
    canonique = f"/formations/{formation.numero}/soudeur-tig-a-larc/"
    response = client.get(f"/formations/{formation.numero}/")
    assert response.status_code == 301 and response["Location"] == canonique
    response = client.get(f"/formations/{formation.numero}/ancien-titre/?terminees=1")
    assert response.status_code == 301 and response["Location"] == canonique + "?terminees=1"
    assert client.get(f"/formations/{formation.numero.lower()}/soudeur-tig-a-larc/").status_code == 301
    assert client.get(canonique).status_code == 200
    assert f'<link rel="canonical" href="{canonique}">' in client.get(canonique).content.decode()


def test_unknown_number_is_404(client, db):
    assert client.get("/formations/999999F/x/").status_code == 404


# --- Only validated data -----------------------------------------------------------------------------


def test_draft_never_appears(client, organisme):
    brouillon = FormationFactory(organisme=organisme, intitule="Soudeur brouillon")
    SessionFactory(action__formation=brouillon)
    indexer_formation(brouillon.pk)  # the working copy's document exists (kind "offre")
    assert DocumentRecherche.objects.filter(formation=brouillon, kind=Kind.OFFRE).exists()
    html = client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()
    assert "Soudeur brouillon" not in html
    assert "Soudeur brouillon" not in client.get(reverse("public:recherche")).content.decode()


def test_pending_change_shows_the_last_validated_version(client, staff_user, saisisseur, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publier(formation, staff_user)
    offre_services.formation_modifier(
        formation=formation,
        user=saisisseur.user,
        donnees={"intitule": "Chaudronnier nouveau", "objectif": "Texte non validé."},
        version=None,
    )
    formation.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE
    html = fiche(client, formation).content.decode()
    assert "Soudeur TIG" in html and "Maîtriser les techniques" in html
    assert "Chaudronnier nouveau" not in html and "Texte non validé." not in html
    assert intitules_de(client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()) == ["Soudeur TIG"]
    assert intitules_de(client.get(reverse("public:recherche"), {"q": "chaudronnier"}).content.decode()) == []


def test_archived_formation_disappears(client, staff_user, saisisseur, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publier(formation, staff_user)
    assert fiche(client, formation).status_code == 200
    workflow.formation_archiver(formation=formation, user=saisisseur.user)
    publication_desindexer(formation.pk)  # as _fermer_publication will
    assert fiche(client, formation).status_code == 404
    assert intitules_de(client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()) == []


def test_refused_formation_never_appears(client, staff_user, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur refusé")
    workflow.formation_refuser(formation=formation, user=staff_user, motif="Hors champ")
    assert not Publication.objects.filter(formation=formation).exists()
    assert "Soudeur refusé" not in client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()
    assert "Soudeur refusé" not in client.get(reverse("public:recherche")).content.decode()


# --- Ended sessions ----------------------------------------------------------------------------------


def test_ended_sessions_hidden_by_default_and_shown_on_request(client, staff_user, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG", debut_jours=10, fin_jours=40)
    action = formation.actions.get()
    SessionFactory(
        action=action,
        debut=timezone.localdate() + datetime.timedelta(days=200),
        fin=timezone.localdate() + datetime.timedelta(days=260),
    )
    seule = formation_soumise_factory(intitule="Soudeur passé", debut_jours=5, fin_jours=20)
    publier(formation, staff_user)
    publier(seule, staff_user)
    premiere = action.sessions.order_by("debut").first()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=60)):
        html = fiche(client, formation).content.decode()
        assert premiere.numero not in html
        assert "1 session terminée non affichée" in html and "Afficher aussi les sessions terminées" in html
        html = fiche(client, formation, terminees="1").content.decode()
        assert premiere.numero in html and "Masquer les sessions terminées" in html
        recherche = client.get(reverse("public:recherche"), {"q": "soudeur"}).content.decode()
        assert intitules_de(recherche) == ["Soudeur TIG"]
        recherche = client.get(reverse("public:recherche"), {"q": "soudeur", "terminees": "on"}).content.decode()
        assert sorted(intitules_de(recherche)) == ["Soudeur TIG", "Soudeur passé"]


# --- Search criteria ---------------------------------------------------------------------------------


def test_search_criteria(client, staff_user, organisme, formation_soumise_factory, bourges, orleans):
    lieu_orleans = LieuFactory(
        organisme=organisme, ville="Orléans", code_insee="45234", departement="45", code_postal="45000"
    )
    bourges_f = formation_soumise_factory(intitule="Soudeur à Bourges", debut_jours=30)
    orleans_f = formation_soumise_factory(
        intitule="Soudeur à Orléans", lieu=lieu_orleans, debut_jours=100, certifiante=True
    )
    action = orleans_f.actions.get()
    action.dispositif = Dispositif.AIF
    action.modalites_enseignement = ModalitesEnseignement.A_DISTANCE
    action.save()
    publier(bourges_f, staff_user)
    publier(orleans_f, staff_user)
    today = timezone.localdate()

    def chercher(**params):
        response = client.get(reverse("public:recherche"), params)
        assert response.status_code == 200
        return sorted(intitules_de(response.content.decode()))

    tous = ["Soudeur à Bourges", "Soudeur à Orléans"]
    assert chercher(q="soudeur") == tous
    assert chercher(q="soudeurs") == tous
    assert chercher(departement="18") == ["Soudeur à Bourges"]
    assert chercher(commune="Orléans") == ["Soudeur à Orléans"]
    assert chercher(commune="18033") == ["Soudeur à Bourges"]
    assert chercher(certifiante="on") == ["Soudeur à Orléans"]
    assert chercher(a_distance="on") == ["Soudeur à Orléans"]
    assert chercher(financement="aif") == ["Soudeur à Orléans"]
    assert chercher(financement="fonds_publics") == ["Soudeur à Orléans"]
    assert chercher(financement="cpf") == []
    assert chercher(debut_apres=(today + datetime.timedelta(days=60)).isoformat()) == ["Soudeur à Orléans"]
    assert chercher(debut_avant=(today + datetime.timedelta(days=60)).strftime("%d/%m/%Y")) == ["Soudeur à Bourges"]


def test_search_errors_are_shown_in_french(client, db):
    response = client.get(reverse("public:recherche"), {"commune": "Atlantide", "debut_apres": "31/02/2027"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Commune inconnue : Atlantide." in html
    assert "corrigez les critères" in html
    assert 'aria-invalid="true"' in html


def test_a_valid_search_without_result_says_so_without_blaming_the_criteria(client, db):
    html = client.get(reverse("public:recherche"), {"q": "xylophone"}).content.decode()
    assert "0 formation" in html
    assert "Aucune formation ne correspond à ces critères." in html
    assert "corrigez les critères" not in html


def test_search_title_and_pagination(client, staff_user, formation_soumise_factory):
    for i in range(22):
        publier(formation_soumise_factory(intitule=f"Soudeur {i:02d}"), staff_user)
    response = client.get(reverse("public:recherche"), {"q": "soudeur", "tri": "intitule"})
    html = response.content.decode()
    assert "<title>« soudeur » : Rechercher une formation —" in html
    assert "22 formations" in html
    assert len(intitules_de(html)) == 20
    assert "page=2" in html
    html = client.get(reverse("public:recherche"), {"q": "soudeur", "tri": "intitule", "page": "2"}).content.decode()
    assert intitules_de(html) == ["Soudeur 20", "Soudeur 21"]


# --- Sitemap and index command ------------------------------------------------------------------------


def test_sitemap_lists_diffused_formations(client, staff_user, organisme, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publier(formation, staff_user)
    brouillon = FormationFactory(organisme=organisme, intitule="Brouillon")
    response = client.get(reverse("public:sitemap"))
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    index = response.content.decode()
    assert "<loc>http://testserver/formations/sitemap-formations.xml</loc>" in index
    assert "<loc>http://testserver/formations/sitemap-recherche.xml</loc>" in index
    xml = client.get("/formations/sitemap-formations.xml").content.decode()
    assert f"<loc>http://testserver/formations/{formation.numero}/soudeur-tig/</loc>" in xml
    assert "<lastmod>" in xml
    assert brouillon.intitule.lower() not in xml
    xml = client.get("/formations/sitemap-recherche.xml").content.decode()
    assert "<loc>http://testserver/formations/</loc>" in xml
    assert client.get("/formations/sitemap-inconnue.xml").status_code == 404
    assert client.get("/formations/sitemap-formations.xml", {"p": "2"}).status_code == 404


def test_reindex_public_rebuilds_from_current_publications(staff_user, saisisseur, formation_soumise_factory):
    gardee = formation_soumise_factory(intitule="Soudeur TIG")
    archivee = formation_soumise_factory(intitule="Soudeur archivé")
    publier(gardee, staff_user)
    publier(archivee, staff_user)
    workflow.formation_archiver(formation=archivee, user=saisisseur.user)  # not desindexed: the command cleans up
    DocumentRecherche.objects.filter(formation=gardee, kind=Kind.PUBLICATION).delete()
    call_command("reindex_public", verbosity=0)
    assert set(DocumentRecherche.objects.filter(kind=Kind.PUBLICATION).values_list("formation_id", flat=True)) == {
        gardee.pk
    }


def test_more_criteria_open_only_when_one_is_used(client, db):
    def ouvert(**params):
        html = client.get(reverse("public:recherche"), params).content.decode()
        return '<details class="mb-3" open>' in html

    assert not ouvert(q="soudeur", departement="", financement="", tri="pertinence")
    assert ouvert(q="soudeur", certifiante="on")
    assert ouvert(q="soudeur", tri="intitule")
    assert ouvert(debut_apres="pas une date")
