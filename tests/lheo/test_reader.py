import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest

from ofeli.lheo import LheoError
from ofeli.lheo.reader import DateLheo, lire_formations, parse_date_lheo, parse_datecrea
from ofeli.lheo.writer import FALLBACKS, numero_action, numero_formation, numero_session
from ofeli.offre.models import Action, Formation, Session
from tests.factories import SessionFactory
from tests.lheo.conftest import exporter

DATA = Path(__file__).parent / "data"


def _date(value):
    return value.valeur if value is not None else None


@pytest.mark.django_db
def test_round_trip_gives_back_the_same_formations_actions_and_sessions(formation_complete):
    SessionFactory()  # a second, minimal formation of another organisme
    lues = {f.numero: f for f in lire_formations(io.BytesIO(exporter()))}
    formations = Formation.objects.all()
    assert set(lues) == {numero_formation(f) for f in formations}
    for formation in formations:
        lue = lues[numero_formation(formation)]
        assert lue.version == "2.3"
        assert lue.intitule == formation.intitule
        assert lue.objectif == formation.objectif
        assert lue.resultats_attendus == formation.resultats_attendus
        assert lue.contenu == formation.contenu
        assert lue.certifiante == formation.certifiante
        assert lue.parcours == formation.parcours
        assert lue.niveau_entree == formation.niveau_entree
        assert lue.niveau_sortie == formation.niveau_sortie
        assert lue.objectif_general == formation.objectif_general
        assert lue.url == ([formation.url] if formation.url else [])
        assert [c.code for c in lue.formacodes] == sorted(f.code for f in formation.formacodes.all())
        assert lue.nsf == sorted(n.code for n in formation.nsf.all())
        assert [r.code for r in lue.romes] == sorted(r.code for r in formation.romes.all())
        assert sorted(next(iter(c.values())) for c in lue.certifications) == sorted(
            c.code for c in formation.certifications.all()
        )
        assert lue.ofeli == {"source": formation.source, "etat": formation.etat}
        assert lue.datecrea == formation.created_at.astimezone().date() or lue.datecrea
        courriels = sorted(c.coordonnees.courriel for c in lue.contacts)
        attendus = sorted(c.user.email for c in formation.contacts.all()) or [formation.organisme.email]
        assert courriels == attendus
        organisme = formation.organisme
        assert (lue.organisme.nda, lue.organisme.siret, lue.organisme.raison_sociale) == (
            organisme.nda,
            organisme.siret,
            organisme.raison_sociale,
        )
        assert lue.organisme.coordonnees.adresse.ville == organisme.ville

        actions = [a for a in formation.actions.all() if a.sessions.exists()]
        assert [a.numero for a in lue.actions] == [numero_action(a) for a in actions]
        for action, action_lue in zip(actions, lue.actions, strict=True):
            assert action_lue.rythme == action.rythme
            assert [p.code for p in action_lue.publics_vises] == action.public_vise
            assert action_lue.info_public_vise == action.info_public_vise
            assert action_lue.niveau_entree_obligatoire == action.niveau_entree_obligatoire
            assert action_lue.modalites_alternance == (action.modalites_alternance or FALLBACKS["modalites-alternance"])
            assert action_lue.modalites_enseignement == action.modalites_enseignement
            assert action_lue.conditions_specifiques == (
                action.conditions_specifiques or FALLBACKS["conditions-specifiques"]
            )
            assert action_lue.prise_en_charge_frais_possible == action.prise_en_charge_frais_possible
            assert action_lue.entree_sortie_permanente == action.entree_sortie_permanente
            assert action_lue.prix_total_ttc == action.prix_total_ttc
            assert action_lue.prix_horaire_ttc == action.prix_horaire_ttc
            assert action_lue.duree_indicative == action.duree_indicative
            assert action_lue.nombre_heures_centre == action.nombre_heures_centre
            assert action_lue.nombre_heures_entreprise == action.nombre_heures_entreprise
            assert action_lue.nombre_heures_total == action.nombre_heures_total
            assert action_lue.detail_conditions_prise_en_charge == action.detail_conditions_prise_en_charge
            assert action_lue.modalites_recrutement == action.modalites_recrutement
            assert action_lue.modalites_pedagogiques == action.modalites_pedagogiques
            assert action_lue.acces_handicapes == action.acces_handicapes
            assert action_lue.langues == [action.langue]
            assert action_lue.url == ([action.url] if action.url else [])
            assert action_lue.ofeli.get("dispositif") == action.dispositif
            assert action_lue.ofeli.get("numero-marche", "") == action.numero_marche
            assert action_lue.ofeli.get("etat") == action.etat
            assert [(f.code, f.nb_places) for f in action_lue.financeurs] == [
                (str(f), None) if not isinstance(f, dict) else (f["code"], f["nb_places"]) for f in action.financeurs
            ]
            assert [lieu.siret for lieu in action_lue.lieux] == [lieu.siret for lieu in action.lieux.all()]
            assert [lieu.coordonnees.adresse.ville for lieu in action_lue.lieux] == [
                lieu.ville for lieu in action.lieux.all()
            ]
            if action.organisme_formateur:
                assert [(o.siret, o.raison_sociale) for o in action_lue.organismes_formateurs] == [
                    (action.organisme_formateur.siret, action.organisme_formateur.raison_sociale)
                ]
            sessions = list(action.sessions.order_by("debut", "id"))
            assert [s.numero for s in action_lue.sessions] == [numero_session(s) for s in sessions]
            for session, session_lue in zip(sessions, action_lue.sessions, strict=True):
                assert session_lue.debut.valeur == session.debut
                assert session_lue.fin.valeur == session.fin
                assert _date(session_lue.inscription_debut) == session.inscription_debut
                assert _date(session_lue.inscription_fin) == session.inscription_fin
                assert session_lue.etat_recrutement == session.etat_recrutement
                assert session_lue.modalites_inscription == session.modalites_inscription
                assert session_lue.url == ([session.url] if session.url else [])
                assert session_lue.ofeli.get("etat") == session.etat
                places = session_lue.ofeli.get("places-restantes")
                assert (int(places) if places else None) == session.places_restantes
                assert [(c.tag, c.coordonnees.courriel) for c in session_lue.contacts] == [
                    (sc.role, sc.contact.user.email) for sc in session.session_contacts.all()
                ]
                assert [b.code for bc in session_lue.blocs_competences for b in bc.blocs] == [
                    b.code for b in session.blocs.all()
                ]
                if session.adresse_inscription:
                    assert session_lue.adresse_inscription.ville == session.adresse_inscription.ville
    assert sum(len(a.sessions) for f in lues.values() for a in f.actions) == Session.objects.count()
    assert (
        sum(len(f.actions) for f in lues.values()) == Action.objects.filter(sessions__isnull=False).distinct().count()
    )


@pytest.mark.django_db
def test_partner_extras_come_back_as_data(formation_complete):
    (lue,) = lire_formations(io.BytesIO(exporter()))
    assert lue.extras == formation_complete.extras["lheo"]


def test_an_lheo_22_file_is_read_and_unknown_elements_are_kept():
    (formation,) = lire_formations(DATA / "exemple-bts-onisep-2.2.xml")
    assert formation.version == "2.2"
    assert formation.numero == "9436_18706"
    assert formation.intitule == "BTS négociation et relation client"
    assert [(c.code, c.ref, c.tag) for c in formation.formacodes][0] == ("34582", "V11", "principal")
    assert formation.nsf == ["312"]
    assert [r.code for r in formation.romes] == ["D1402", "D1403", "D1408"]
    assert formation.objectif.startswith("<p>A la fois vendeur")
    assert formation.actions and formation.actions[0].sessions
    assert formation.organisme is not None and formation.organisme.raison_sociale
    nodes = [n for n in formation.extras + formation.autres] + [
        n for a in formation.actions for n in a.extras + a.autres
    ]
    assert nodes, "extras of the Onisep sample are kept"


MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>
<formation numero="F1" datecrea="2017-12-13T10:00:00" datemaj="20180102">
<domaine-formation/>
<intitule-formation>Titre</intitule-formation><objectif-formation>O</objectif-formation>
<resultats-attendus>R</resultats-attendus><contenu-formation>C</contenu-formation><certifiante>0</certifiante>
<contact-formation><coordonnees><courriel>a@b.fr</courriel></coordonnees></contact-formation>
<parcours-de-formation>1</parcours-de-formation><code-niveau-entree>0</code-niveau-entree>
<action numero="A1"><rythme-formation>r</rythme-formation><code-public-vise ref="V14">83056</code-public-vise>
<niveau-entree-obligatoire>0</niveau-entree-obligatoire><modalites-alternance>-</modalites-alternance>
<modalites-enseignement>0</modalites-enseignement><conditions-specifiques>-</conditions-specifiques>
<prise-en-charge-frais-possible>0</prise-en-charge-frais-possible>
<modalites-entrees-sorties>1</modalites-entrees-sorties>
<session numero="S1"><periode><debut>{debut}</debut><fin>{fin}</fin></periode>
<adresse-inscription><adresse><ligne>1 rue</ligne><codepostal>45000</codepostal><ville>Orléans</ville>
</adresse></adresse-inscription>
<cycle><type-cycle>0</type-cycle></cycle>
<extras info="session-perimee"><extra info="x">1<b>gras</b>fin</extra></extras>
</session></action>
<organisme-formation-responsable><numero-activite>24450000000</numero-activite>
<SIRET-organisme-formation><SIRET>12345678200002</SIRET></SIRET-organisme-formation>
<nom-organisme>N</nom-organisme><raison-sociale>RS</raison-sociale>
<coordonnees-organisme><coordonnees/></coordonnees-organisme>
<contact-organisme><coordonnees/></contact-organisme></organisme-formation-responsable>
</formation></offres></lheo>"""


def _minimal(debut="20260105", fin="20260430", namespace=None):
    text = MINIMAL.format(debut=debut, fin=fin)
    if namespace:
        text = text.replace("http://lheo.gouv.fr/2.3", namespace)
    return io.BytesIO(text.encode())


def test_placeholder_dates_and_datecrea_formats():
    (f,) = lire_formations(_minimal(debut="00000000", fin="99999999"))
    assert f.datecrea == datetime.date(2017, 12, 13)
    assert f.datemaj == datetime.date(2018, 1, 2)
    session = f.actions[0].sessions[0]
    assert session.debut == DateLheo("00000000", None, "inconnue")
    assert session.fin == DateLheo("99999999", None, "inconnue")
    assert f.actions[0].entree_sortie_permanente is True
    assert f.actions[0].modalites_alternance == "-"


def test_unknown_elements_and_extras_of_a_session_are_kept_with_mixed_content():
    (f,) = lire_formations(_minimal())
    session = f.actions[0].sessions[0]
    assert [n["tag"] for n in session.autres] == ["cycle"]
    (extras,) = session.extras
    assert extras["attrs"] == {"info": "session-perimee"}
    extra = extras["children"][0]
    assert (extra["text"], extra["children"][0]["text"], extra["children"][0]["tail"]) == ("1", "gras", "fin")


@pytest.mark.parametrize(
    ("raw", "fin", "expected"),
    [
        ("20260105", False, (datetime.date(2026, 1, 5), "jour")),
        ("20260200", False, (datetime.date(2026, 2, 1), "mois")),
        ("20260200", True, (datetime.date(2026, 2, 28), "mois")),
        ("20260000", True, (datetime.date(2026, 12, 31), "annee")),
        ("20260000", False, (datetime.date(2026, 1, 1), "annee")),
        ("00000000", False, (None, "inconnue")),
        ("99999999", True, (None, "inconnue")),
    ],
)
def test_parse_date_lheo(raw, fin, expected):
    date = parse_date_lheo(raw, fin=fin)
    assert (date.valeur, date.precision) == expected


def test_bad_dates_get_a_french_error_with_the_line():
    with pytest.raises(LheoError) as error:
        list(lire_formations(_minimal(debut="2026-01-05")))
    assert "AAAAMMJJ" in error.value.message and error.value.line == 14
    with pytest.raises(LheoError, match="hors limites"):
        list(lire_formations(_minimal(fin="20261340")))


def test_datecrea_accepts_iso_and_lheo_forms():
    assert parse_datecrea("20171213") == datetime.date(2017, 12, 13)
    assert parse_datecrea("2017-12-13") == datetime.date(2017, 12, 13)
    assert parse_datecrea("2017-12-13T08:00:00+01:00") == datetime.date(2017, 12, 13)
    assert parse_datecrea("n'importe quoi") is None


def test_both_namespaces_are_accepted_and_others_refused():
    (f,) = lire_formations(_minimal(namespace="http://www.lheo.org/2.2"))
    assert f.version == "2.2"
    with pytest.raises(LheoError, match="espace de noms"):
        list(lire_formations(_minimal(namespace="http://exemple.org/autre")))
    with pytest.raises(LheoError, match="racine"):
        list(lire_formations(io.BytesIO(b"<autre/>")))


def test_prices_and_numbers(formation_complete):
    (f,) = lire_formations(io.BytesIO(exporter()))
    assert f.actions[0].prix_horaire_ttc == Decimal("12.5")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation numero="&xxe;"><intitule-formation>&xxe;</intitule-formation>
</formation></offres></lheo>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation><intitule-formation>&lol9;</intitule-formation>
</formation></offres></lheo>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE lheo SYSTEM "http://attaquant.example/lheo.dtd">
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation><intitule-formation>x</intitule-formation>
</formation></offres></lheo>"""

UNDECLARED_ENTITY = b"""<?xml version="1.0"?>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation><intitule-formation>&xxe;</intitule-formation>
</formation></offres></lheo>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_malicious_payloads_are_refused_with_a_clear_error(payload):
    with pytest.raises(LheoError) as error:
        list(lire_formations(io.BytesIO(payload)))
    assert "DOCTYPE" in error.value.message and "sécurité" in error.value.message
    assert "root:" not in str(error.value)


def test_undeclared_entities_and_broken_xml_are_refused():
    with pytest.raises(LheoError, match="entité|bien formé"):
        list(lire_formations(io.BytesIO(UNDECLARED_ENTITY)))
    with pytest.raises(LheoError, match="bien formé") as error:
        list(lire_formations(io.BytesIO(b"<lheo xmlns='http://lheo.gouv.fr/2.3'>\n<offres>\n</lheo>")))
    assert error.value.line == 3
