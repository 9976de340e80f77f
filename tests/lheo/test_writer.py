import datetime
import io

import pytest
from lxml import etree

from ofeli.lheo import NS_23
from ofeli.lheo.validate import valider_lheo
from ofeli.lheo.writer import (
    FALLBACKS,
    ExportVide,
    FormationIncomplete,
    formation_element,
    formation_fragment,
    iter_formations,
    write_document,
    write_formations,
)
from ofeli.offre.models import Etat, Formation
from tests.factories import ActionFactory, FormationFactory, SessionFactory
from tests.lheo.conftest import exporter

pytestmark = pytest.mark.django_db
NS = {"l": NS_23}


def _tree(data: bytes):
    return etree.fromstring(data)


def formation_avec_session(**kwargs):
    session = SessionFactory(action__formation=FormationFactory(**kwargs))
    return session.action.formation


def test_export_of_a_complete_formation_is_valid_against_the_xsd(formation_complete):
    data = exporter()
    assert valider_lheo(io.BytesIO(data)) == []
    root = _tree(data)
    assert root.tag == f"{{{NS_23}}}lheo"
    formation = root.find("l:offres/l:formation", NS)
    # Carif numbers are the identifiers; items not yet numbered get a stable internal identifier.
    assert formation.get("numero") == "900001F"
    numeros = [s.get("numero") for s in formation.iterfind(".//l:session", NS)]
    brouillon = formation_complete.actions.get(numero="900001A").sessions.get(numero__isnull=True)
    assert numeros[0] == "308695S" or "308695S" in numeros
    assert f"OFELI-S{brouillon.pk}" in numeros
    assert formation.find("l:organisme-formation-responsable", NS).get("numero") == "24_OF_0001"
    assert formation.findtext("l:intitule-formation", namespaces=NS) == "Soudeur — TIG & MIG <niveau 1>"


def test_ended_sessions_and_every_state_are_exported(formation_complete):
    root = _tree(exporter())
    debuts = [d.text for d in root.iterfind(".//l:session/l:periode/l:debut", NS)]
    assert "20200106" in debuts  # ended in 2020, still exported
    assert len(debuts) == 3


def test_an_action_without_session_is_left_out(formation_complete):
    root = _tree(exporter())
    assert len(root.findall(".//l:action", NS)) == 2  # the fixture's third action has no session


def test_mandatory_fields_empty_in_the_data_get_the_documented_fallbacks():
    formation = formation_avec_session(intitule="", objectif="", contenu="Contenu")
    action = formation.actions.get()
    action.public_vise = []
    action.save()
    data = exporter()
    assert valider_lheo(io.BytesIO(data)) == []
    root = _tree(data)
    f = root.find(".//l:formation", NS)
    assert f.findtext("l:intitule-formation", namespaces=NS) == FALLBACKS["texte"]
    assert f.findtext("l:objectif-formation", namespaces=NS) == FALLBACKS["texte"]
    assert f.findtext("l:action/l:modalites-alternance", namespaces=NS) == "Sans objet"
    assert f.findtext("l:action/l:conditions-specifiques", namespaces=NS) == "Aucune"
    public = f.find("l:action/l:code-public-vise", NS)
    assert (public.text, public.get("ref")) == ("83056", "V14")
    # No contact linked to the formation: the organisme's own coordinates.
    contact = f.find("l:contact-formation/l:coordonnees", NS)
    assert contact.findtext("l:courriel", namespaces=NS) == formation.organisme.email
    # No inscription address: the organisme's address.
    assert f.findtext(".//l:adresse-inscription/l:adresse/l:ville", namespaces=NS) == formation.organisme.ville


def test_organisme_without_nda_or_address_still_gives_a_valid_file():
    formation = formation_avec_session()
    organisme = formation.organisme
    organisme.nda = None
    organisme.ligne1 = ""
    organisme.code_postal = "4500"
    organisme.save()
    data = exporter()
    assert valider_lheo(io.BytesIO(data)) == []
    root = _tree(data)
    assert root.findtext(".//l:numero-activite", namespaces=NS) == FALLBACKS["numero-activite"]
    adresse = root.find(".//l:adresse-inscription/l:adresse", NS)
    assert adresse.findtext("l:codepostal", namespaces=NS) == FALLBACKS["codepostal"]


def test_empty_optional_elements_are_omitted(formation_complete):
    root = _tree(exporter())
    for element in root.iter():
        assert (element.text or "").strip() or len(element), f"élément vide : {element.tag}"
    f = _tree(exporter(Formation.objects.none() | Formation.objects.filter(pk=formation_avec_session().pk)))
    assert f.find(".//l:url-formation", NS) is None
    assert f.find(".//l:objectif-general-formation", NS) is None


def test_texts_are_cleaned_and_cut_to_the_schema_lengths():
    formation_avec_session(intitule="Soudure\x0b à l'arc\x01", objectif="x" * 3100, contenu="Ligne\x1f 1")
    data = exporter()
    assert valider_lheo(io.BytesIO(data)) == []
    f = _tree(data).find(".//l:formation", NS)
    assert f.findtext("l:intitule-formation", namespaces=NS) == "Soudure à l'arc"
    objectif = f.findtext("l:objectif-formation", namespaces=NS)
    assert len(objectif) == 3000 and objectif.endswith("…") and objectif.startswith("xxx")
    assert f.findtext("l:contenu-formation", namespaces=NS) == "Ligne 1"


def test_a_formation_without_session_is_skipped_and_counted():
    formation_avec_session()
    ActionFactory(formation=FormationFactory())  # no session
    FormationFactory()  # no action
    output = io.BytesIO()
    stats = write_formations(output, Formation.objects.all())
    assert (stats.formations, stats.actions, stats.sessions, stats.omises) == (1, 1, 1, 2)
    assert valider_lheo(io.BytesIO(output.getvalue())) == []


def test_nothing_to_export_is_refused_rather_than_an_invalid_file():
    FormationFactory()
    with pytest.raises(ExportVide):
        write_formations(io.BytesIO(), Formation.objects.all())


def test_fragments_are_deterministic_and_stream_into_a_valid_document(formation_complete):
    other = formation_avec_session(etat=Etat.VALIDEE)
    fragments = [formation_fragment(formation_complete), formation_fragment(other)]
    assert formation_fragment(formation_complete) == fragments[0]
    assert fragments[0].startswith(b'<formation xmlns="http://lheo.gouv.fr/2.3"')
    output = io.BytesIO()
    assert write_document(output, fragments, datecrea=datetime.date(2026, 1, 2)) == 2
    assert valider_lheo(io.BytesIO(output.getvalue())) == []
    root = _tree(output.getvalue())
    assert root.get("datecrea") == "20260102"
    assert len(root.findall("l:offres/l:formation", NS)) == 2


def test_session_filter_writes_only_the_chosen_sessions(formation_complete):
    fragment = formation_fragment(formation_complete, session_filter=lambda s: s.etat == Etat.VALIDEE)
    root = _tree(fragment)
    assert [s.get("numero") for s in root.iterfind(".//l:session", NS)] == ["308695S"]


def test_partner_extras_kept_on_the_formation_are_written_back(formation_complete):
    root = _tree(formation_fragment(formation_complete))
    extras = root.findall("l:extras", NS)
    assert [e.get("info") for e in extras] == ["ofeli", "partenaire"]
    assert extras[1].findtext("l:extra", namespaces=NS) == "X1"


def test_formations_are_fetched_in_chunks_with_a_constant_number_of_queries(django_assert_max_num_queries):
    for _ in range(3):
        formation_avec_session()
    with django_assert_max_num_queries(40) as few:
        list(iter_formations(Formation.objects.all(), chunk_size=100))
    for _ in range(9):
        formation_avec_session()
    with django_assert_max_num_queries(len(few.captured_queries)):
        exporter(chunk_size=100)


def test_chunks_cover_every_formation_once_from_a_queryset_or_ids():
    formations = [formation_avec_session() for _ in range(7)]
    expected = sorted(f.pk for f in formations)
    ordered = Formation.objects.order_by("-intitule")  # a search ordering is dropped
    assert sorted(f.pk for f in iter_formations(ordered, chunk_size=3)) == expected
    assert [f.pk for f in iter_formations(iter(expected), chunk_size=2)] == expected
    root = _tree(exporter(chunk_size=2))
    assert len(root.findall("l:offres/l:formation", NS)) == 7


def _rendues_par_elements(monkeypatch) -> list:
    """Counts the formations the export hands to formation_element() instead of its templates."""
    from ofeli.lheo import writer

    appels = []

    def compte(formation, **kwargs):
        appels.append(formation.pk)
        return formation_element(formation, **kwargs)

    monkeypatch.setattr(writer, "formation_element", compte)
    return appels


def _document_par_elements() -> bytes:
    """The reference: every formation rendered by formation_element() (what publications store), streamed."""
    output = io.BytesIO()
    elements = []
    for formation in iter_formations(Formation.objects.all()):
        try:
            elements.append(formation_element(formation))
        except FormationIncomplete:
            continue
    write_document(output, elements)
    return output.getvalue()


def test_the_export_writes_each_formation_exactly_as_its_publication_fragment(formation_complete, monkeypatch):
    """The full export renders from rows; partners and the public site read fragments rendered from the models:
    both must give the same bytes, every field, fallback and escaping included."""
    from ofeli.organismes.models import Lieu

    organisme = formation_complete.organisme
    Lieu.objects.filter(organisme=organisme).update(denomination='Site "Nord" & <Sud>', ligne2="Bât.\tB\r\n")
    formation_avec_session(
        intitule="Maçonnerie & <carrelage> \r\n ligne\x01",
        objectif="  ",
        contenu="a" * 3001,
        url="ht",
        niveau_sortie=None,
        objectif_general=None,
        extras={"lheo": [{"tag": "extras", "attrs": {"info": 'p&"q'}, "text": "", "children": [], "tail": ""}]},
    )
    session = SessionFactory(
        numero="S&1",
        places_restantes=0,
        inscription_fin=datetime.date(2026, 3, 1),
        modalites_inscription="Dossier <complet> & entretien",
        extras={
            "lheo": [
                {"tag": "extras", "attrs": {"info": "x"}, "children": [{"tag": "extra", "text": "valeur > 1"}]},
                {"tag": "extras", "attrs": {"info": "vide"}, "text": "\x02", "children": []},
            ]
        },
    )
    action = session.action
    action.financeurs = [{"code": "10", "nb_places": "3"}, "", {"code": "2"}]
    action.public_vise = ["123", "82044"]
    action.langue = "en"
    action.extras = {"lheo": [{"tag": "extras", "attrs": {}, "text": "", "children": [{"tag": "extra", "text": "t"}]}]}
    action.save()
    ActionFactory(formation=FormationFactory())  # no session: omitted by both

    output = io.BytesIO()
    par_elements = _rendues_par_elements(monkeypatch)
    stats = write_formations(output, Formation.objects.all(), chunk_size=2)
    assert par_elements == []  # every formation went through the templates
    assert output.getvalue() == _document_par_elements()
    assert (stats.formations, stats.omises) == (3, 1)
    assert valider_lheo(io.BytesIO(output.getvalue())) == []


def test_stored_extras_with_mixed_content_are_written_as_the_fragment_writes_them(formation_complete, monkeypatch):
    """Text beside elements changes lxml's indentation of the whole parent: such a formation goes through the
    element renderer, so the export still equals the fragment."""
    formation_complete.extras = {
        "lheo": [
            {"tag": "extras", "attrs": {"info": "a"}, "text": "avant", "children": [{"tag": "extra", "text": "x"}]},
            {"tag": "extra", "attrs": {"info": "b"}, "text": "y", "children": [], "tail": "après"},
        ]
    }
    formation_complete.save()
    formation_avec_session()
    par_elements = _rendues_par_elements(monkeypatch)
    data = exporter(chunk_size=1)
    assert par_elements == [formation_complete.pk]
    assert data == _document_par_elements()
