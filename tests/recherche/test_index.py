import datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from ofeli.offre.models import Dispositif, Etat, ModalitesEnseignement
from ofeli.recherche.index import indexer_formation, indexer_formations
from ofeli.recherche.models import CritereRecherche, DocumentRecherche, Kind
from tests.factories import FormationFactory, LieuFactory

pytestmark = pytest.mark.django_db
JOUR = datetime.date(2030, 3, 2)


def _criteres(formation):
    return set(
        CritereRecherche.objects.filter(document__formation=formation, document__kind=Kind.OFFRE).values_list(
            "nom", "valeur"
        )
    )


def _lignes_fts():
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid, titre FROM recherche_fts ORDER BY rowid")
        return cursor.fetchall()


def test_document_holds_the_denormalised_criteria(referentiels, creer_formation):
    lieu = LieuFactory(departement="45", code_insee="45234", ville="Orléans")
    formation = creer_formation(
        intitule="Soudeur TIG",
        certifiante=True,
        niveau_sortie=13,
        numero="900001F",
        lieu=lieu,
        sessions=[JOUR, JOUR + datetime.timedelta(days=60)],
        formacodes=referentiels["formacodes"][:1],
        nsf=referentiels["nsf"][:1],
        romes=referentiels["romes"][:1],
        certifications=referentiels["certifications"][:1],
        action={
            "dispositif": Dispositif.AIF,
            "numero_marche": "m 2024-17",
            "entree_sortie_permanente": True,
            "modalites_enseignement": ModalitesEnseignement.A_DISTANCE,
        },
    )
    doc = DocumentRecherche.objects.get(formation=formation, kind=Kind.OFFRE)
    assert (doc.organisme_id, doc.source, doc.etat) == (formation.organisme_id, "of", Etat.BROUILLON)
    assert doc.certifiante and doc.fonds_publics and doc.a_distance and doc.entree_sortie_permanente
    assert (doc.niveau_sortie, doc.premiere_session, doc.derniere_session) == (13, JOUR, JOUR + datetime.timedelta(60))
    assert doc.intitule_tri == "soudeur tig"
    assert _criteres(formation) == {
        ("formacode", "23054"),
        ("nsf", "254"),
        ("rome", "H2913"),
        ("certif", "RNCP12345"),
        ("dep", "45"),
        ("commune", "45234"),
        ("dispositif", "aif"),
        ("marche", "M2024-17"),
        ("numero", "900001F"),
        ("debut", "2030-03-02"),
        ("debut", "2030-05-01"),
    }
    if connection.vendor == "postgresql":
        doc.refresh_from_db()
        assert "'soudeur':1A" in doc.search_vector
        assert "'proced':" in doc.search_vector  # contenu (factory): "procédés"
        assert "'soudeur':1A" in doc.vecteur_rang and "'proced'" not in doc.vecteur_rang
    else:
        assert _lignes_fts() == [(doc.pk, "soudeur tig")]


def test_reindexing_replaces_the_document(creer_formation):
    formation = creer_formation(intitule="Anglais", sessions=[JOUR])
    doc_id = DocumentRecherche.objects.get(formation=formation).pk
    formation.intitule = "Allemand"
    formation.etat = Etat.EN_ATTENTE
    formation.save()
    formation.actions.first().sessions.all().delete()
    indexer_formation(formation.pk)
    doc = DocumentRecherche.objects.get(formation=formation)
    assert (doc.pk, doc.intitule, doc.etat, doc.premiere_session) == (doc_id, "Allemand", Etat.EN_ATTENTE, None)
    assert not any(nom == "debut" for nom, _ in _criteres(formation))
    if connection.vendor == "sqlite":
        assert _lignes_fts() == [(doc_id, "allemand")]


def test_a_deleted_formation_loses_its_document(creer_formation):
    formation = creer_formation(sessions=[JOUR])
    pk = formation.pk
    formation.delete()  # cascades to the document; the SQLite trigger removes the FTS row
    indexer_formation(pk)
    assert not DocumentRecherche.objects.exists()
    assert not CritereRecherche.objects.exists()
    if connection.vendor == "sqlite":
        assert _lignes_fts() == []


def test_the_document_is_written_in_the_transaction_of_the_write(creer_formation):
    formation = FormationFactory(intitule="Comptabilité")
    with pytest.raises(RuntimeError), transaction.atomic():
        indexer_formation(formation.pk)
        assert DocumentRecherche.objects.filter(formation=formation).exists()
        raise RuntimeError("the write fails")
    assert not DocumentRecherche.objects.filter(formation=formation).exists()
    if connection.vendor == "sqlite":
        assert _lignes_fts() == []


def test_bulk_indexing_and_the_command(creer_formation):
    formations = [FormationFactory(intitule=f"Formation {i}") for i in range(5)]
    assert indexer_formations([f.pk for f in formations[:2]]) == 2
    assert DocumentRecherche.objects.count() == 2
    call_command("reindex_recherche", verbosity=0)
    assert DocumentRecherche.objects.count() == 5
    formations[0].delete()
    call_command("reindex_recherche", str(formations[1].pk), verbosity=0)
    assert DocumentRecherche.objects.count() == 4
