"""The public site in Chromium: a visitor searches by keyword and commune, opens a formation and finds the
session's Carif number at the bottom of the page; axe finds no violation; keyboard and phone work."""

import datetime

import pytest
from django.utils import timezone

from ofeli.core.region import current_region
from ofeli.offre.models import SessionContact
from ofeli.public.index import publication_indexer
from ofeli.validation import workflow
from tests.factories import (
    CommuneFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _publier(intitule, *, organisme, lieu, staff):
    formation = FormationFactory(organisme=organisme, soumise=True, intitule=intitule)
    today = timezone.localdate()
    session = SessionFactory(
        action__formation=formation,
        debut=today + datetime.timedelta(days=20),
        fin=today + datetime.timedelta(days=90),
        places_restantes=8,
    )
    session.action.lieux.add(lieu)
    SessionContact.objects.create(session=session, contact=ContactFactory(organisme=organisme))
    publication_indexer(workflow.formation_valider(formation=formation, user=staff))
    session.refresh_from_db()
    return session


def test_search_by_keyword_and_commune_then_open_a_formation(page, axe_check, screenshot):
    staff = UserFactory(staff=True)
    CommuneFactory(code_insee="18033", nom="Bourges", departement="18")
    CommuneFactory(code_insee="45234", nom="Orléans", departement="45")
    organisme = OrganismeFactory(raison_sociale="Atelier du Berry")
    bourges = LieuFactory(organisme=organisme)
    orleans = LieuFactory(
        organisme=organisme, ville="Orléans", code_insee="45234", departement="45", code_postal="45000"
    )
    session = _publier("Soudeur TIG", organisme=organisme, lieu=bourges, staff=staff)
    _publier("Soudeur MIG", organisme=organisme, lieu=orleans, staff=staff)
    _publier("Anglais professionnel", organisme=organisme, lieu=bourges, staff=staff)

    page.goto("/formations/")
    assert page.title() == f"Rechercher une formation — {current_region().site_public}"
    axe_check(page, context_label="recherche publique")

    # Keyboard: the skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"

    page.get_by_label("Mots-clés").fill("soudeurs")
    page.get_by_label("Commune").fill("Bourges")
    page.get_by_label("Commune").press("Enter")
    page.wait_for_url("**/formations/?q=soudeurs*")
    assert page.get_by_role("heading", name="1 formation").is_visible()
    assert page.get_by_role("link", name="Soudeur MIG").count() == 0
    axe_check(page, context_label="résultats publics")
    screenshot(page, "resultats", tour="public-01-recherche")

    lien = page.get_by_role("link", name="Soudeur TIG")
    lien.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/formations/{session.action.formation.numero}/soudeur-tig/")
    assert page.get_by_role("heading", level=1, name="Soudeur TIG").is_visible()
    axe_check(page, context_label="fiche formation")

    # The Carif number: the last thing of the page's content.
    derniere_section = page.locator("article.public-fiche > section").last
    assert derniere_section.get_attribute("id") == "numeros-carif"
    assert derniere_section.locator("[data-numero-session]").inner_text() == session.numero
    derniere_section.scroll_into_view_if_needed()
    screenshot(page, "fiche", tour="public-02-fiche-formation")

    # On a phone: no horizontal scroll, the Carif number still readable.
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_text(session.numero, exact=True).is_visible()
    axe_check(page, context_label="fiche formation (téléphone)")
    screenshot(page, "fiche-telephone")

    # Printable: navigation and search controls are not printed, the Carif number is.
    page.emulate_media(media="print")
    assert not page.locator('nav[aria-label="Fil d\'Ariane"]').is_visible()
    assert page.get_by_text(session.numero, exact=True).is_visible()
