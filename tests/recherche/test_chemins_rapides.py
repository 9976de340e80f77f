"""The stored next session (sort and exactness over time) and the relevance cap for very common words."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory

from ofeli.recherche import services
from ofeli.recherche.index import rafraichir_prochaines_sessions
from ofeli.recherche.models import SANS_PROCHAINE_SESSION, DocumentRecherche, Kind
from ofeli.recherche.query import Criteres, Tri, rechercher_documents
from ofeli.recherche.services import page_pour

pytestmark = pytest.mark.django_db

LUNDI = datetime.datetime(2031, 3, 3, 10, 0, tzinfo=datetime.UTC)


def _jour(n: int) -> datetime.date:
    return LUNDI.date() + datetime.timedelta(days=n)


def ordre(**criteres) -> list[str]:
    documents = rechercher_documents(Criteres(tri=Tri.PROCHAINE_SESSION, **criteres), kind=Kind.OFFRE)
    return list(documents.values_list("intitule", flat=True))


def test_next_session_is_stored_at_indexing(creer_formation):
    with time_machine.travel(LUNDI, tick=False):
        formation = creer_formation(intitule="A", sessions=[_jour(-10), _jour(5), _jour(40)])
        document = DocumentRecherche.objects.get(formation=formation, kind=Kind.OFFRE)
    assert (document.prochaine_session, document.prochaine_au) == (_jour(5), LUNDI.date())


def test_a_formation_without_session_to_come_stores_a_date_after_any_other(creer_formation):
    """Never NULL once computed: the sort by next session is a plain ascending index walk on both databases."""
    with time_machine.travel(LUNDI, tick=False):
        formation = creer_formation(intitule="Passée", sessions=[_jour(-10)])
        document = DocumentRecherche.objects.get(formation=formation, kind=Kind.OFFRE)
    assert document.prochaine_session == SANS_PROCHAINE_SESSION
    assert rafraichir_prochaines_sessions(_jour(3)) == 0  # still exact days later: nothing to recompute


def test_next_session_sort_stays_exact_as_days_pass(creer_formation):
    """Indexed on Monday; on later days the order follows the sessions still to come, never a stale value."""
    with time_machine.travel(LUNDI, tick=False):
        creer_formation(intitule="Tôt puis tard", sessions=[_jour(2), _jour(30)])
        creer_formation(intitule="Moyen", sessions=[_jour(10)])
        creer_formation(intitule="Plus rien", sessions=[_jour(1)])
        creer_formation(intitule="Passée", sessions=[_jour(-5)])
        assert ordre() == ["Plus rien", "Tôt puis tard", "Moyen", "Passée"]
    with time_machine.travel(LUNDI + datetime.timedelta(days=3), tick=False):
        # « Tôt puis tard »'s next session is now day 30; « Plus rien » has none left.
        assert ordre() == ["Moyen", "Tôt puis tard", "Passée", "Plus rien"]
        assert DocumentRecherche.objects.get(intitule="Tôt puis tard").prochaine_session == _jour(30)
    with time_machine.travel(LUNDI - datetime.timedelta(days=20), tick=False):
        # A clock put back (documents computed "in the future") is recomputed too.
        assert ordre() == ["Passée", "Plus rien", "Tôt puis tard", "Moyen"]


def test_refresh_touches_only_documents_no_longer_exact(creer_formation):
    with time_machine.travel(LUNDI, tick=False):
        creer_formation(intitule="Demain", sessions=[_jour(1), _jour(9)])
        creer_formation(intitule="Loin", sessions=[_jour(50)])
        assert rafraichir_prochaines_sessions(LUNDI.date()) == 0
    assert rafraichir_prochaines_sessions(_jour(2)) == 1
    assert rafraichir_prochaines_sessions(_jour(2)) == 0
    assert DocumentRecherche.objects.get(intitule="Demain").prochaine_session == _jour(9)


def test_documents_from_before_the_column_are_filled(creer_formation):
    with time_machine.travel(LUNDI, tick=False):
        creer_formation(intitule="Ancien", sessions=[_jour(4)])
        DocumentRecherche.objects.update(prochaine_session=None, prochaine_au=None)
        assert ordre()[0] == "Ancien"
        assert DocumentRecherche.objects.get(intitule="Ancien").prochaine_session == _jour(4)


def _page(staff_user, params):
    request = RequestFactory().get("/recherche/formations/", params)
    request.user = staff_user
    request.session = {}
    return page_pour(request, request.GET, 1)


def test_very_common_words_keep_every_result_sorted_by_intitule(creer_formation, staff_user, monkeypatch):
    """Beyond the cap the relevance order gives way to the intitulé order: same results, same count."""
    for intitule, objectif in [
        ("Cuisine", "Formation formation formation de cuisine"),
        ("Anglais", "Une formation d'anglais"),
        ("Boulangerie", "Formation de boulanger"),
        ("Zoologie", "Sans le mot"),
    ]:
        creer_formation(intitule=intitule, objectif=objectif, sessions=[LUNDI.date()])
    classee = _page(staff_user, {"q": "formation"})
    assert not classee.pertinence_plafonnee
    assert [r.formation.intitule for r in classee.resultats][0] == "Cuisine"  # by relevance
    monkeypatch.setattr(services, "PLAFOND_COMPTE", 2)
    plafonnee = _page(staff_user, {"q": "formations"})
    assert plafonnee.pertinence_plafonnee
    assert [r.formation.intitule for r in plafonnee.resultats] == ["Anglais", "Boulangerie", "Cuisine"]
    # A sort the user chose, or fewer matches than the cap, keep their order.
    assert not _page(staff_user, {"q": "formation", "tri": "prochaine_session"}).pertinence_plafonnee
    assert not _page(staff_user, {"q": "boulanger"}).pertinence_plafonnee


def test_the_page_says_why_results_are_sorted_by_intitule(creer_formation, staff_user, client, monkeypatch):
    for intitule in ("Un", "Deux", "Trois"):
        creer_formation(intitule=f"Formation {intitule}", sessions=[LUNDI.date()])
    client.force_login(staff_user)
    monkeypatch.setattr(services, "PLAFOND_COMPTE", 2)
    html = client.get("/recherche/formations/", {"q": "formation"}).content.decode()
    assert "elles sont classées par intitulé" in html


def test_relevance_puts_the_intitule_first_then_the_objectif_then_the_contenu(creer_formation, staff_user):
    """The relevance order (bm25 on SQLite, ts_rank on PostgreSQL) ranks a word in the intitulé first; a filter
    still cuts the results."""
    creer_formation(intitule="Anglais", objectif="Parler", contenu="Soudure et tuyauterie", sessions=[LUNDI.date()])
    creer_formation(intitule="Soudure à l'arc", objectif="Souder", sessions=[LUNDI.date()])
    creer_formation(
        intitule="Métallerie", objectif="Les soudures des métaux", certifiante=True, sessions=[LUNDI.date()]
    )
    creer_formation(intitule="Cuisine", objectif="Cuisiner", certifiante=True, sessions=[LUNDI.date()])
    page = _page(staff_user, {"q": "soudures"})
    assert [r.formation.intitule for r in page.resultats] == ["Soudure à l'arc", "Métallerie", "Anglais"]
    assert not page.pertinence_plafonnee
    assert [r.formation.intitule for r in _page(staff_user, {"q": "métaux or cuisine"}).resultats] == [
        "Cuisine",
        "Métallerie",
    ]
    assert {r.formation.intitule for r in _page(staff_user, {"q": "soudure -arc"}).resultats} == {
        "Métallerie",
        "Anglais",
    }
    assert [r.formation.intitule for r in _page(staff_user, {"q": "soudure", "certifiante": "oui"}).resultats] == [
        "Métallerie"
    ]


def test_words_found_in_too_many_documents_for_fts5_are_sorted_by_intitule(creer_formation, staff_user, monkeypatch):
    """SQLite's FTS5 ranks every document holding the words before the other criteria apply: beyond SEUIL_BM25
    such documents, the results (still exactly those the criteria keep) come in the intitulé order and the page
    says so, even when a criterion keeps few of them. PostgreSQL ranks after filtering: it keeps the relevance."""
    from ofeli.recherche import query

    creer_formation(intitule="Zinguerie et soudure", objectif="Toitures", certifiante=True, sessions=[LUNDI.date()])
    creer_formation(intitule="Atelier", objectif="La soudure", certifiante=True, sessions=[LUNDI.date()])
    creer_formation(intitule="Anglais", contenu="soudure", sessions=[LUNDI.date()])
    params = {"q": "soudure", "certifiante": "oui"}
    assert [r.formation.intitule for r in _page(staff_user, params).resultats] == ["Zinguerie et soudure", "Atelier"]
    monkeypatch.setattr(query, "SEUIL_BM25", 2)
    page = _page(staff_user, params)
    sqlite = connection.vendor == "sqlite"
    assert page.pertinence_plafonnee is sqlite
    attendu = ["Atelier", "Zinguerie et soudure"] if sqlite else ["Zinguerie et soudure", "Atelier"]
    assert [r.formation.intitule for r in page.resultats] == attendu


def test_many_results_keep_every_criterion_when_the_page_walks_the_sort(creer_formation, staff_user, monkeypatch):
    """Beyond PLAFOND_COMPTE results, SQLite walks the sort's index and tests each document (words, dates,
    département): the same results as below the cap, in the order asked."""
    from tests.factories import LieuFactory

    for intitule, debut, departement in [
        ("Delta", _jour(10), "18"),
        ("Alpha", _jour(20), "18"),
        ("Charlie", _jour(200), "18"),  # starts after the range
        ("Bravo", _jour(15), "45"),  # another département
        ("Echo", _jour(12), "18"),
    ]:
        creer_formation(
            intitule=f"{intitule} zinguerie",
            sessions=[debut],
            lieu=LieuFactory(departement=departement, code_insee=f"{departement}033", ville="Ville"),
        )
    creer_formation(intitule="Foxtrot", sessions=[_jour(11)], lieu=LieuFactory(departement="18"))  # no word
    params = {
        "q": "zingueries",
        "departement": "18",
        "debut_apres": _jour(5).strftime("%d/%m/%Y"),
        "debut_avant": _jour(30).strftime("%d/%m/%Y"),
    }
    for tri, attendu in [
        ("intitule", ["Alpha zinguerie", "Delta zinguerie", "Echo zinguerie"]),
        ("prochaine_session", ["Delta zinguerie", "Echo zinguerie", "Alpha zinguerie"]),
    ]:
        with time_machine.travel(LUNDI, tick=False):
            avant = [r.formation.intitule for r in _page(staff_user, {**params, "tri": tri}).resultats]
            monkeypatch.setattr(services, "PLAFOND_COMPTE", 2)  # 3 results: more than the cap, all counted
            apres = [r.formation.intitule for r in _page(staff_user, {**params, "tri": tri}).resultats]
            monkeypatch.setattr(services, "PLAFOND_COMPTE", 10_000)
        assert (avant, apres) == (attendu, attendu), tri
