"""The queue is sorted, paged and counted in SQL (late items: delais.limite_retard): exactly as one by one."""

import datetime
import zoneinfo

import pytest

from ofeli.offre.models import Etat
from ofeli.validation import services
from ofeli.validation.delais import en_retard

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MAINTENANT = datetime.datetime(2026, 11, 26, 15, 0, tzinfo=PARIS)  # a Thursday


@pytest.mark.django_db
def test_the_queue_sorted_paged_and_counted_by_the_database_matches_one_by_one(monkeypatch):
    # Formations and sessions alone, submitted over three weeks: the pages, in order, make the whole queue
    # oldest first, and the late count is what asking each item gives.
    from ofeli.validation.services import file_elements
    from tests.factories import ActionFactory, FormationFactory, OrganismeFactory, SessionFactory

    organisme, autre = OrganismeFactory(departement="45"), OrganismeFactory(departement="37")
    attendus = []
    for i in range(14):
        quand = MAINTENANT - datetime.timedelta(hours=37 * i + 5)
        if i % 3 == 0:  # a new session of a validated formation, alone in the queue
            validee = FormationFactory(organisme=autre if i % 2 else organisme, validee=True)
            obj = SessionFactory(action=ActionFactory(formation=validee), etat=Etat.EN_ATTENTE, soumise_at=quand)
            attendus.append(("session", obj.pk, quand, validee.organisme))
        else:
            obj = FormationFactory(organisme=autre if i % 2 else organisme, soumise=True, soumise_at=quand)
            attendus.append(("formation", obj.pk, quand, obj.organisme))
    attendus.sort(key=lambda a: (a[2], a[0], a[1]))

    file = file_elements(maintenant=MAINTENANT)
    assert len(file) == 14
    pages = [file[debut : debut + 5] for debut in range(0, 14, 5)]
    assert [(e.objet, e.obj.pk) for page in pages for e in page] == [a[:2] for a in attendus]
    assert file.nombre_en_retard() == sum(1 for a in attendus if en_retard(a[2], MAINTENANT)) > 0

    du_loiret = file_elements(departement="45", maintenant=MAINTENANT)
    attendus_45 = [a[:2] for a in attendus if a[3] == organisme]
    assert [(e.objet, e.obj.pk) for e in du_loiret[0:20]] == attendus_45
    assert len(du_loiret) == len(attendus_45)
    assert du_loiret.nombre_en_retard() == sum(1 for a in attendus if a[3] == organisme and en_retard(a[2], MAINTENANT))
    sessions = file_elements(type_changement="nouvelle_session", maintenant=MAINTENANT)
    assert [e.obj.pk for e in sessions[0:20]] == [a[1] for a in attendus if a[0] == "session"]
    # Sessions waiting alone by the thousands are read with a sub-query rather than one parameter each (SQLite):
    # the same queue.
    monkeypatch.setattr(services, "_IDS_EN_PARAMETRES", 0)
    assert [(e.objet, e.obj.pk) for e in file_elements(maintenant=MAINTENANT)[0:20]] == [a[:2] for a in attendus]


@pytest.mark.django_db
def test_the_type_filter_tells_a_change_to_a_diffused_formation_from_a_new_one(staff_user):
    from ofeli.offre.models import Formation
    from ofeli.validation import workflow
    from ofeli.validation.services import file_elements
    from tests.factories import FormationFactory, SessionFactory

    nouvelle = SessionFactory(action__formation=FormationFactory(soumise=True)).action.formation
    diffusee = SessionFactory(action__formation=FormationFactory(soumise=True)).action.formation
    workflow.formation_valider(formation=diffusee, user=staff_user)
    Formation.objects.filter(pk=diffusee.pk).update(etat=Etat.EN_ATTENTE)  # changed and submitted again

    def types(type_changement=""):
        return [(e.obj.pk, e.type) for e in file_elements(type_changement=type_changement, maintenant=MAINTENANT)[0:10]]

    assert sorted(types()) == sorted([(nouvelle.pk, "nouvelle_formation"), (diffusee.pk, "modification")])
    assert types("modification") == [(diffusee.pk, "modification")]
    assert types("nouvelle_formation") == [(nouvelle.pk, "nouvelle_formation")]
    assert types("nouvelle_session") == []
