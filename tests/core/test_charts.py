"""The pictures of the staff home and of the OF's tableau de bord: the table under each chart holds the same
figures as the data, the SVG is well formed and written without colour alone, empty data gives an empty state."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree, html

from ofeli.core import charts, dashboard
from ofeli.diffusion.models import DiffusionRun, Partenaire
from ofeli.offre.models import Dispositif, Etat
from ofeli.validation.models import Publication, Transition
from tests.factories import ActionFactory, FormationFactory, LieuFactory, SessionFactory, UserFactory

PARIS = datetime.timezone(datetime.timedelta(hours=1))


def publier(formation):
    return Publication.objects.create(
        formation=formation, organisme=formation.organisme, numero=1, data={}, validated_at=timezone.now()
    )


def figure(page: bytes, nom: str):
    doc = html.fromstring(page)
    (fig,) = doc.xpath(f'//figure[@data-graphique="{nom}"]')
    return fig


def tableau(fig) -> list[list[str]]:
    return [
        [re.sub(r"[ \t\n]+", " ", c.text_content()).strip() for c in tr.xpath("./th|./td")]
        for tr in fig.xpath(".//tbody/tr")
    ]


def svg_valide(fig):
    """The chart's SVG parses as XML, has a title and a description and its bars carry their value as text."""
    (svg,) = fig.xpath(".//svg")
    xml = etree.fromstring(html.tostring(svg))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert xml.find("s:title", ns).text == fig.xpath("./figcaption")[0].text.strip()
    assert xml.find("s:desc", ns).text.strip()
    assert svg.get("role") == "img"
    assert not fig.xpath(".//*[@style]"), "CSP: no style attribute"
    return xml


# --- pure chart functions ---------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.text(min_size=1, max_size=40), st.integers(min_value=0, max_value=10**6)), max_size=15))
@settings(max_examples=50, deadline=None)
def test_horizontal_bars_table_holds_the_data_and_bars_are_proportional(donnees):
    g = charts.barres_horizontales(titre="T", description="D", donnees=donnees, categorie="C", unite="U", vide="V")
    assert [ligne[0] for ligne in g.lignes] == [libelle for libelle, _ in donnees]
    assert [int(ligne[1].replace("\u202f", "")) for ligne in g.lignes] == [v for _, v in donnees]
    if not any(v for _, v in donnees):
        assert g.est_vide
        return
    maximum = max(v for _, v in donnees)
    for rect, (_, v) in zip(g.rects, donnees, strict=True):
        assert rect.valeur == v
        assert rect.largeur == pytest.approx(
            (charts.LARGEUR - charts.LIBELLE_L - charts.VALEUR_L - charts.MARGE) * v / maximum, abs=0.1
        )
        assert rect.largeur >= 0 and rect.x + rect.largeur <= g.largeur


def test_vertical_bars_skip_missing_values_and_draw_the_reference_line():
    g = charts.barres_verticales(
        titre="Délais",
        description="D",
        categories=["01/01", "08/01", "15/01"],
        series=[("Médian", [10, None, 60]), ("Max", [20, None, 72])],
        categorie="Semaine",
        reference=(48, "engagement"),
        vide="V",
    )
    assert g.lignes == [["01/01", "10", "20"], ["08/01", "—", "—"], ["15/01", "60", "72"]]
    assert len(g.rects) == 4
    assert {r.serie for r in g.rects} == {0, 1}
    # the reference line sits at 48 on the same scale as the bars (72 is the tallest)
    plus_haute = max(g.rects, key=lambda r: r.valeur)
    assert g.reference["y"] == pytest.approx(g.base - plus_haute.hauteur * 48 / 72, abs=0.2)


def test_no_data_is_an_empty_chart():
    g = charts.barres_verticales(
        titre="T", description="D", categories=["a", "b"], series=[("S", [None, 0])], categorie="C", vide="Rien"
    )
    assert g.est_vide
    g = charts.grille_diffusion(titre="T", description="D", nuits=["01/01/2026"], partenaires=[("P", [None])], vide="R")
    assert g.est_vide and g.lignes == [["P", "aucun flux"]]


# --- the OF's tableau de bord ---------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 5, 15, 10, tzinfo=PARIS), tick=False)
def test_of_dashboard_charts_its_sessions_month_by_month(client, gestionnaire):
    organisme = gestionnaire.organisme
    action = ActionFactory(formation=FormationFactory(organisme=organisme))
    SessionFactory(action=action, debut=datetime.date(2026, 1, 10), fin=datetime.date(2026, 3, 5))
    SessionFactory(action=action, debut=datetime.date(2025, 11, 2), fin=datetime.date(2026, 1, 31))
    SessionFactory(action=action, debut=datetime.date(2026, 6, 1), fin=datetime.date(2026, 6, 30))
    SessionFactory(action=action, debut=datetime.date(2026, 6, 1), fin=datetime.date(2026, 6, 30), etat=Etat.ARCHIVE_OF)
    SessionFactory(debut=datetime.date(2026, 6, 1), fin=datetime.date(2026, 6, 30))  # another OF's

    client.force_login(gestionnaire.user)
    page = client.get(reverse("core:tableau_de_bord")).content
    fig = figure(page, "sessions")
    svg_valide(fig)
    lignes = tableau(fig)
    assert [ligne[0] for ligne in lignes] == dashboard.MOIS
    commencent = [int(ligne[1]) for ligne in lignes]
    en_cours = [int(ligne[2]) for ligne in lignes]
    assert commencent == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert en_cours == [2, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert en_cours == dashboard.sessions_par_mois(organisme, 2026)["en_cours"]
    # every non-zero figure is also written on the picture
    textes = [t.text_content() for t in fig.xpath(".//svg//text")]
    assert textes.count("2") >= 1 and textes.count("1") >= 5


@pytest.mark.django_db
def test_of_dashboard_without_sessions_says_what_to_do(client, gestionnaire):
    client.force_login(gestionnaire.user)
    fig = figure(client.get(reverse("core:tableau_de_bord")).content, "sessions")
    assert not fig.xpath(".//svg")
    assert "Ajoutez des sessions" in fig.xpath(".//*[@data-vide]")[0].text_content()


# --- the staff home -------------------------------------------------------------------------------------


def transition(formation, avant, apres, acteur, at, session=None):
    t = Transition.objects.create(
        formation=formation,
        session=session,
        objet="session" if session else "formation",
        etat_avant=avant,
        etat_apres=apres,
        acteur=acteur,
    )
    Transition.objects.filter(pk=t.pk).update(created_at=at)


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 3, 20, 12, tzinfo=PARIS), tick=False)
def test_staff_home_charts_offer_delays_and_runs_with_the_same_figures_in_tables(client, staff_user):
    # Offer: two diffused formations in the Cher (18), one of them also in the Loiret (45), a draft not counted.
    f1 = FormationFactory(validee=True)
    a1 = ActionFactory(formation=f1, dispositif=Dispositif.AIF)
    a1.lieux.add(LieuFactory(organisme=f1.organisme), LieuFactory(organisme=f1.organisme, departement="45"))
    publier(f1)
    f2 = FormationFactory(validee=True)
    ActionFactory(formation=f2, dispositif=Dispositif.REGION).lieux.add(LieuFactory(organisme=f2.organisme))
    ActionFactory(formation=f2, dispositif=Dispositif.AIF)
    publier(f2)
    brouillon = FormationFactory()
    ActionFactory(formation=brouillon).lieux.add(LieuFactory(organisme=brouillon.organisme))

    # Validation delays: in the week of Monday 16/03, submitted Thu 12/03 09:00, validated Mon 16/03 09:00 (48 h
    # working: Thu 15 h + Fri 24 h + Mon 9 h), and submitted Mon 16/03 10:00, complement asked Mon 16/03 12:00 (2 h).
    at = lambda j, h: datetime.datetime(2026, 3, j, h, tzinfo=PARIS)  # noqa: E731
    transition(f1, Etat.BROUILLON, Etat.EN_ATTENTE, "of", at(12, 9))
    transition(f1, Etat.EN_ATTENTE, Etat.VALIDEE, "staff", at(16, 9))
    transition(f2, Etat.BROUILLON, Etat.EN_ATTENTE, "of", at(16, 10))
    transition(f2, Etat.EN_ATTENTE, Etat.COMPLEMENT, "staff", at(16, 12))

    # Diffusion: a partner with a failure then a retry that succeeded on 19/03, a failure on 20/03.
    p = Partenaire.objects.create(nom="AAA Partenaire test", slug="aaa-test")
    debut = at(19, 2)
    DiffusionRun.objects.create(
        partenaire=p, nuit=datetime.date(2026, 3, 19), kind="delta", statut="echec", started_at=debut
    )
    DiffusionRun.objects.create(
        partenaire=p,
        nuit=datetime.date(2026, 3, 19),
        kind="delta",
        statut="reussi",
        tentative=2,
        started_at=debut,
        nb_formations=1234,
    )
    DiffusionRun.objects.create(
        partenaire=p, nuit=datetime.date(2026, 3, 20), kind="delta", statut="echec", started_at=at(20, 2)
    )

    client.force_login(staff_user)
    page = client.get(reverse("core:staff_home")).content

    fig = figure(page, "departements")
    svg_valide(fig)
    lignes = dict((ligne[0], ligne[1]) for ligne in tableau(fig))
    assert lignes["18"] == "2" and lignes["45"] == "1"
    assert sum(int(v) for v in lignes.values()) == sum(n for _, n in dashboard.offre_par_departement())

    fig = figure(page, "dispositifs")
    svg_valide(fig)
    assert tableau(fig) == [["AIF (Aide individuelle à la formation)", "2"], ["Région", "1"]]

    fig = figure(page, "delais")
    xml = svg_valide(fig)
    lignes = tableau(fig)
    assert len(lignes) == dashboard.SEMAINES_DELAI
    assert lignes[-1] == ["16/03", "25 h", "48 h"]  # median of 48 and 2, longest 48
    assert all(ligne[1:] == ["—", "—"] for ligne in lignes[:-1])
    assert "engagement : 48 h ouvrées" in "".join(xml.itertext())

    fig = figure(page, "diffusion")
    svg_valide(fig)
    (entetes,) = fig.xpath(".//thead/tr")
    assert [c.text_content() for c in entetes.xpath("./th")][-2:] == ["19/03/2026", "20/03/2026"]
    (ligne,) = [ligne for ligne in tableau(fig) if ligne[0] == "AAA Partenaire test"]
    assert ligne[-2:] == ["réussi, 1\u202f234 formations", "échec, 0 formation"]
    assert ligne[1:-2] == ["aucun flux"] * 12
    textes = [t.text_content() for t in fig.xpath(".//svg//text")]
    assert "✓" in textes and "✗" in textes and "1\u202f234" in textes


@pytest.mark.django_db
def test_staff_home_without_data_shows_empty_states_not_broken_pictures(client, staff_user):
    Partenaire.objects.update(actif=False)
    client.force_login(staff_user)
    page = client.get(reverse("core:staff_home")).content
    for nom in ("departements", "dispositifs", "delais", "diffusion"):
        fig = figure(page, nom)
        assert not fig.xpath(".//svg"), nom
        assert fig.xpath(".//*[@data-vide]")[0].text_content().strip(), nom


def test_svg_numbers_are_not_localised():
    """Inside the SVG, coordinates use a dot (the French locale would write a comma and break the picture)."""
    from django.template.loader import render_to_string

    g = charts.barres_verticales(
        titre="T", description="D", categories=["a"], series=[("S", [2.5]), ("M", [7.25])], categorie="C", vide="V"
    )
    rendu = render_to_string("core/_graphique.html", {"g": g, "nom": "x"})
    for attr in re.findall(r'\s(?:x|y|width|height)="([^"]*)"', rendu):
        assert re.fullmatch(r"-?\d+(\.\d+)?%?", attr), attr
    assert "7,2" in rendu  # the value written on the bar is French


def test_staff_home_is_for_staff_only(client, db):
    client.force_login(UserFactory())
    assert client.get(reverse("core:staff_home")).status_code == 403
