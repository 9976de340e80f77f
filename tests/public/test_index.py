import datetime

import pytest

from ofeli.offre.models import Formation
from ofeli.public.index import donnees_publication, publication_indexer
from ofeli.recherche.models import CritereRecherche, DocumentRecherche, Kind

from .conftest import publier

pytestmark = pytest.mark.django_db
Nom = CritereRecherche.Nom


def test_document_is_built_from_the_snapshot_only(staff_user, formation_soumise_factory):
    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publication = publier(formation, staff_user)
    # The working copy changes behind the publication's back: the public document does not follow.
    Formation.objects.filter(pk=formation.pk).update(intitule="Texte de travail", objectif="Brouillon")
    publication.refresh_from_db()
    donnees = donnees_publication(publication)
    assert donnees.intitule == "Soudeur TIG" and donnees.objectif.startswith("Maîtriser")
    session = formation.actions.get().sessions.get()
    session.refresh_from_db()
    assert donnees.etat == "validee"
    assert donnees.premiere_session == session.debut
    assert donnees.derniere_session == session.fin  # the last END (hides formations whose sessions all ended)
    assert (Nom.NUMERO, session.numero) in donnees.criteres
    assert (Nom.COMMUNE, "18033") in donnees.criteres and (Nom.DEPARTEMENT, "18") in donnees.criteres
    assert (Nom.DEBUT, session.debut.isoformat()) in donnees.criteres
    assert donnees.mise_a_jour == publication.validated_at
    assert isinstance(donnees.premiere_session, datetime.date)


def test_indexing_a_closed_publication_removes_the_document(staff_user, formation_soumise_factory):
    formation = formation_soumise_factory()
    publication = publier(formation, staff_user)
    assert DocumentRecherche.objects.filter(kind=Kind.PUBLICATION, formation=formation).count() == 1
    assert (
        DocumentRecherche.objects.get(kind=Kind.PUBLICATION, formation=formation).organisme_id == formation.organisme_id
    )
    publication.closed_at = publication.validated_at
    publication_indexer(publication)
    assert not DocumentRecherche.objects.filter(kind=Kind.PUBLICATION, formation=formation).exists()


def _rowids(table):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {table}")  # noqa: S608 - a table name of the test's own
        return {r[0] for r in cursor.fetchall()}


def test_each_kind_is_searched_in_its_own_full_text(staff_user, formation_soumise_factory):
    from django.db import connection

    from ofeli.recherche.index import indexer_formation
    from ofeli.recherche.models import TABLES_FTS
    from ofeli.recherche.query import Criteres, rechercher_documents

    formation = formation_soumise_factory(intitule="Soudeur TIG")
    publication = publier(formation, staff_user)
    Formation.objects.filter(pk=formation.pk).update(intitule="Chaudronnier plasturgiste")
    indexer_formation(formation.pk)

    def trouvees(mots, kind):
        return list(rechercher_documents(Criteres(texte=mots), kind=kind).values_list("formation_id", flat=True))

    assert trouvees("soudeur", Kind.PUBLICATION) == [formation.pk]
    assert trouvees("chaudronnier", Kind.PUBLICATION) == []  # the working copy's words are not public
    assert trouvees("chaudronnier", Kind.OFFRE) == [formation.pk]
    assert trouvees("soudeur", Kind.OFFRE) == []
    public = DocumentRecherche.objects.get(kind=Kind.PUBLICATION, formation=formation)
    if connection.vendor == "sqlite":  # one FTS5 table per kind (migration recherche 0009)
        assert public.pk in _rowids(TABLES_FTS[Kind.PUBLICATION])
        assert public.pk not in _rowids(TABLES_FTS[Kind.OFFRE])
    publication.closed_at = publication.validated_at
    publication_indexer(publication)
    assert trouvees("soudeur", Kind.PUBLICATION) == []
    if connection.vendor == "sqlite":  # the document's deletion took its full-text row along (trigger)
        assert public.pk not in _rowids(TABLES_FTS[Kind.PUBLICATION])
