import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from ofeli.offre.models import Dispositif, Etat
from ofeli.validation import workflow
from ofeli.validation.models import DemandeComplement
from tests.factories import ActionFactory, ContactFactory, FormationFactory, OrganismeFactory, SessionFactory

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _soumise(organisme, when=None, **action):
    formation = FormationFactory(organisme=organisme, soumise=True)
    if when:
        formation.soumise_at = when
        formation.save()
    SessionFactory(action=ActionFactory(formation=formation, **action))
    return formation


def test_queue_is_for_staff_only(client, saisisseur):
    url = reverse("validation:file")
    assert client.get(url).status_code == 302
    client.force_login(saisisseur.user)
    assert client.get(url).status_code == 403


def test_queue_oldest_first_with_past_due_flag(client, staff_user, organisme):
    ancienne = _soumise(organisme, datetime.datetime(2025, 6, 6, 16, 0, tzinfo=PARIS))
    recente = _soumise(organisme, datetime.datetime(2025, 6, 10, 9, 0, tzinfo=PARIS))
    client.force_login(staff_user)
    with time_machine.travel(datetime.datetime(2025, 6, 11, 17, 0, tzinfo=PARIS), tick=False):
        response = client.get(reverse("validation:file"))
    html = response.content.decode()
    assert html.index(ancienne.intitule) < html.index(recente.intitule)
    elements = response.context["page"].object_list
    assert [e.en_retard for e in elements] == [True, False]
    assert "En retard de 1 h" in html
    assert response.context["en_retard"] == 1
    assert "INVALID[" not in html


def test_queue_filters(client, staff_user, organisme):
    autre = OrganismeFactory()
    aif = _soumise(organisme, dispositif=Dispositif.AIF)
    cpf = _soumise(autre, dispositif=Dispositif.CPF)
    client.force_login(staff_user)
    url = reverse("validation:file")

    def intitules(**params):
        return [e.formation.intitule for e in client.get(url, params).context["page"].object_list]

    assert set(intitules()) == {aif.intitule, cpf.intitule}
    assert intitules(organisme=autre.pk) == [cpf.intitule]
    assert intitules(dispositif=Dispositif.AIF) == [aif.intitule]
    assert set(intitules(type_changement="nouvelle_formation")) == {aif.intitule, cpf.intitule}
    assert intitules(type_changement="nouvelle_session") == []
    assert intitules(type_changement="modification") == []


def test_queue_filter_lists_the_organismes_with_something_waiting(client, staff_user, organisme, saisisseur):
    sans_rien = OrganismeFactory()
    FormationFactory(organisme=sans_rien)  # a draft: nothing waiting
    avec_session = OrganismeFactory()
    formation = _soumise(avec_session)
    workflow.formation_valider(formation=formation, user=staff_user)
    session = SessionFactory(action=formation.actions.get(), etat=Etat.BROUILLON)
    workflow.session_soumettre(session=session, user=staff_user)
    _soumise(organisme)
    client.force_login(staff_user)
    url = reverse("validation:file")

    choix = client.get(url).context["filtre"].fields["organisme"].queryset
    assert set(choix) == {organisme, avec_session}
    html = client.get(url, {"organisme": avec_session.pk}).content.decode()
    assert f'<option value="{avec_session.pk}" selected>' in html
    assert [e.obj.pk for e in client.get(url, {"organisme": avec_session.pk}).context["page"].object_list] == [
        session.pk
    ]


def test_queue_page_reads_only_the_items_shown(client, staff_user, organisme, django_assert_max_num_queries):
    """A page of the queue loads its fifty items, whatever the number waiting: the count stays exact."""
    for _ in range(55):
        _soumise(organisme)
    client.force_login(staff_user)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("validation:file"))
    assert response.context["total"] == 55
    assert len(response.context["page"].object_list) == 50
    suite = client.get(reverse("validation:file"), {"page": 2}).context["page"].object_list
    assert len(suite) == 5


def test_queue_shows_new_session_of_a_validated_formation(client, staff_user, organisme, saisisseur):
    formation = _soumise(organisme)
    workflow.formation_valider(formation=formation, user=staff_user)
    session = SessionFactory(action=formation.actions.get(), etat=Etat.BROUILLON)
    workflow.session_soumettre(session=session, user=saisisseur.user)
    client.force_login(staff_user)
    elements = client.get(reverse("validation:file"), {"type_changement": "nouvelle_session"}).context["page"]
    assert [(e.objet, e.obj.pk) for e in elements.object_list] == [("session", session.pk)]


def test_bulk_validation_reports_validated_and_refused(client, staff_user, organisme):
    a = _soumise(organisme)
    b = _soumise(organisme)
    client.force_login(staff_user)
    stale = f"formation:{b.pk}:{b.version - 1}"
    response = client.post(reverse("validation:file"), {"elements": [f"formation:{a.pk}:{a.version}", stale]})
    resultats = response.context["resultats"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.etat == Etat.VALIDEE and b.etat == Etat.EN_ATTENTE
    assert resultats["valides"] == [f"Formation « {a.intitule} » (n° {a.numero})"]
    assert len(resultats["refuses"]) == 1 and "rechargez la page" in resultats["refuses"][0][1]


def test_item_page_shows_new_formation_as_new(client, staff_user, organisme):
    formation = _soumise(organisme)
    client.force_login(staff_user)
    response = client.get(reverse("validation:formation", args=[formation.pk]))
    html = response.content.decode()
    assert response.context["diff"]["nouvelle"]
    assert "Intitulé" in html and formation.intitule in html
    assert "Nouvelle formation" in html
    assert "INVALID[" not in html


def test_item_page_diff_of_a_modification(client, staff_user, organisme, saisisseur):
    formation = _soumise(organisme)
    workflow.formation_valider(formation=formation, user=staff_user)
    formation.refresh_from_db()
    ancien = formation.intitule
    formation.intitule = "Soudure TIG avancée"
    formation.save()
    workflow.marquer_modifie(obj=formation, user=saisisseur.user)
    client.force_login(staff_user)
    diff = client.get(reverse("validation:formation", args=[formation.pk])).context["diff"]
    assert diff["formation"] == [
        {"champ": "intitule", "libelle": "Intitulé", "avant": ancien, "apres": "Soudure TIG avancée"}
    ]


def test_validate_from_item_page_and_stale_version(client, staff_user, organisme):
    formation = _soumise(organisme)
    url = reverse("validation:formation", args=[formation.pk])
    client.force_login(staff_user)
    vue = formation.version
    response = client.post(url, {"operation": "valider", "valider-version": vue})
    assert response.status_code == 302
    formation.refresh_from_db()
    assert formation.etat == Etat.VALIDEE and formation.numero
    # a second staff member on the same stale page
    response = client.post(url, {"operation": "valider", "valider-version": vue})
    assert response.status_code == 200
    assert "rechargez la page" in response.content.decode()


def test_complement_and_cancel_from_item_page(client, staff_user, organisme):
    formation = _soumise(organisme)
    url = reverse("validation:formation", args=[formation.pk])
    client.force_login(staff_user)
    response = client.post(url, {"operation": "complement", "complement-version": formation.version})
    assert response.status_code == 200  # message required
    formation.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE
    client.post(
        url, {"operation": "complement", "complement-version": formation.version, "complement-message": "Durée ?"}
    )
    formation.refresh_from_db()
    assert formation.etat == Etat.COMPLEMENT
    demande = DemandeComplement.objects.get(formation=formation)
    page = client.get(url).content.decode()
    assert "Annuler la demande de complément" in page and "INVALID[" not in page
    client.post(url, {"operation": "annuler", "annuler-version": formation.version, "annuler-demande": demande.pk})
    formation.refresh_from_db()
    demande.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE and demande.statut == DemandeComplement.Statut.ANNULEE


def test_refuse_from_item_page(client, staff_user, organisme):
    formation = _soumise(organisme)
    client.force_login(staff_user)
    client.post(
        reverse("validation:formation", args=[formation.pk]),
        {"operation": "refuser", "refuser-version": formation.version, "refuser-motif": "Hors champ"},
    )
    formation.refresh_from_db()
    assert formation.etat == Etat.NON_DIFFUSEE


def test_session_item_page(client, staff_user, organisme, saisisseur):
    formation = _soumise(organisme)
    workflow.formation_valider(formation=formation, user=staff_user)
    session = SessionFactory(action=formation.actions.get(), etat=Etat.BROUILLON)
    workflow.session_soumettre(session=session, user=saisisseur.user)
    session.refresh_from_db()
    client.force_login(staff_user)
    url = reverse("validation:session", args=[session.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"operation": "valider", "valider-version": session.version})
    session.refresh_from_db()
    assert session.etat == Etat.VALIDEE and session.numero.endswith("S")


def test_of_follow_up_page_and_corrections(client, staff_user, organisme, saisisseur, lecteur):
    formation = _soumise(organisme)
    demande = workflow.formation_demander_complement(formation=formation, user=staff_user, message="Le prix ?")
    url = reverse("validation:suivi", args=[formation.pk])
    corrections = reverse("validation:corrections_effectuees", args=[demande.pk])

    client.force_login(lecteur.user)
    page = client.get(url).content.decode()
    assert "Le prix ?" in page and "J'ai effectué les corrections" not in page
    assert "INVALID[" not in page
    assert client.post(corrections, {"confirme": "1"}).status_code == 403

    client.force_login(saisisseur.user)
    assert "J'ai effectué les corrections" in client.get(url).content.decode()
    client.post(corrections, {})  # not ticked
    formation.refresh_from_db()
    assert formation.etat == Etat.COMPLEMENT
    response = client.post(corrections, {"confirme": "1"}, follow=True)
    formation.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE
    assert "48 heures ouvrées" in response.content.decode()


def test_opening_the_follow_up_page_reads_the_notices_of_that_formation(
    client, staff_user, organisme, saisisseur, django_capture_on_commit_callbacks
):
    from ofeli.messagerie.models import Notification, TypeNotification

    formation = _soumise(organisme)
    autre = _soumise(organisme)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.formation_demander_complement(formation=formation, user=staff_user, message="Le prix ?")
        workflow.formation_demander_complement(formation=autre, user=staff_user, message="Les dates ?")
    notices = Notification.objects.filter(user=saisisseur.user, type=TypeNotification.COMPLEMENT)
    assert notices.filter(lue_at__isnull=True).count() == 2
    client.force_login(saisisseur.user)
    client.get(reverse("validation:suivi", args=[formation.pk]))
    assert list(notices.filter(lue_at__isnull=True).values_list("formation", flat=True)) == [autre.pk]


def test_of_cannot_see_another_organisme(client, organisme):
    formation = _soumise(OrganismeFactory())
    contact = ContactFactory(organisme=organisme, peut_saisir=True)
    client.force_login(contact.user)
    assert client.get(reverse("validation:suivi", args=[formation.pk])).status_code == 404


def test_demandes_complement_tag_for_other_screens(rf, staff_user, organisme, saisisseur):
    from django.template import Context, Template

    formation = _soumise(organisme)
    demande = workflow.formation_demander_complement(formation=formation, user=staff_user, message="Les dates ?")
    request = rf.get("/offre/formations/1/")
    request.user = saisisseur.user
    request.contact = saisisseur
    html = Template("{% load validation_tags %}{% demandes_complement formation %}").render(
        Context({"request": request, "formation": formation, "csrf_token": "x"})
    )
    assert "Les dates ?" in html and "J'ai effectué les corrections" in html
    assert reverse("validation:corrections_effectuees", args=[demande.pk]) in html
    assert 'name="next" value="/offre/formations/1/"' in html


def test_corrections_come_back_to_the_screen_given(client, staff_user, organisme, saisisseur):
    formation = _soumise(organisme)
    demande = workflow.formation_demander_complement(formation=formation, user=staff_user, message="Les dates ?")
    client.force_login(saisisseur.user)
    url = reverse("validation:corrections_effectuees", args=[demande.pk])
    response = client.post(url, {"confirme": "1", "next": "https://ailleurs.example/"})
    assert response.url == reverse("validation:suivi", args=[formation.pk])


def test_queue_queries_do_not_grow_with_its_size(client, staff_user, organisme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_user)
    url = reverse("validation:file")

    def compter():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _soumise(organisme)
    petit = compter()
    for _ in range(6):
        _soumise(OrganismeFactory())
    assert compter() == petit


def test_staff_withdraw_a_validated_formation(client, staff_user, organisme):
    formation = _soumise(organisme)
    workflow.formation_valider(formation=formation, user=staff_user)
    formation.refresh_from_db()
    client.force_login(staff_user)
    url = reverse("validation:formation", args=[formation.pk])
    assert "Retirer de la diffusion" in client.get(url).content.decode()
    client.post(url, {"operation": "refuser", "refuser-version": formation.version, "refuser-motif": "Fermée"})
    formation.refresh_from_db()
    assert formation.etat == Etat.NON_DIFFUSEE
    assert not formation.publications.courantes().exists()
