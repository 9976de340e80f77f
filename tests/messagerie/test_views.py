import pytest
from django.core import mail
from django.urls import reverse

from ofeli.core.region import current_region
from ofeli.messagerie import services
from ofeli.messagerie.models import Fil, Message, Notification, PreferenceNotification
from ofeli.messagerie.notifications import notifier
from tests.factories import ContactFactory, FormationFactory, OrganismeFactory, SessionFactory

from .conftest import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def autre_of():
    """Another organisme with its own contact and thread."""
    contact = ContactFactory(gestionnaire=True)
    fil = services.fil_creer(organisme=contact.organisme, auteur=contact.user, sujet="Secret de l'autre", texte="x")
    return contact, fil


def test_every_messagerie_view_asks_for_login(client):
    for name, args in [
        ("messagerie:fils", []),
        ("messagerie:nouveau", []),
        ("messagerie:fil", [1]),
        ("messagerie:piece", [1]),
        ("messagerie:notifications", []),
        ("messagerie:preferences", []),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_contact_sees_only_its_organismes_threads(client, gestionnaire, autre_of):
    _, fil_autre = autre_of
    mien = services.fil_creer(organisme=gestionnaire.organisme, auteur=gestionnaire.user, sujet="Mon fil", texte="x")
    client.force_login(gestionnaire.user)
    html = client.get(reverse("messagerie:fils")).content.decode()
    assert "Mon fil" in html and "Secret de l&#x27;autre" not in html and "Secret de l'autre" not in html
    assert client.get(reverse("messagerie:fil", args=[mien.pk])).status_code == 200
    assert client.get(reverse("messagerie:fil", args=[fil_autre.pk])).status_code == 404
    response = client.post(reverse("messagerie:fil", args=[fil_autre.pk]), {"texte": "intrusion"})
    assert response.status_code == 404
    assert not Message.objects.filter(texte="intrusion").exists()


def test_a_contact_cannot_download_another_organismes_attachment(client, gestionnaire, autre_of, pdf_file):
    contact, fil = autre_of
    message = services.message_envoyer(fil=fil, auteur=contact.user, texte="pj", pieces=[pdf_file])
    piece = message.pieces.get()
    client.force_login(gestionnaire.user)
    assert client.get(reverse("messagerie:piece", args=[piece.pk])).status_code == 404
    client.force_login(contact.user)
    response = client.get(reverse("messagerie:piece", args=[piece.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert 'attachment; filename="convention.pdf"' in response["Content-Disposition"]


def test_staff_see_all_threads_and_filter_them(client, staff_user, gestionnaire, autre_of):
    contact, fil_autre = autre_of
    formation = FormationFactory(organisme=gestionnaire.organisme, intitule="Soudure TIG")
    fil_formation = services.fil_pour_objet(organisme=gestionnaire.organisme, formation=formation)
    services.message_envoyer(fil=fil_formation, auteur=gestionnaire.user, texte="Question sur la soudure")
    client.force_login(staff_user)
    url = reverse("messagerie:fils")
    html = client.get(url).content.decode()
    assert fil_formation.sujet.replace("«", "&laquo;") in html or "Soudure TIG" in html
    assert "Secret de l" in html
    # by organisme
    html = client.get(url, {"q": contact.organisme.raison_sociale}).content.decode()
    assert "Secret de l" in html and "Soudure TIG" not in html
    html = client.get(url, {"q": gestionnaire.organisme.siret}).content.decode()
    assert "Soudure TIG" in html and "Secret de l" not in html
    # about a formation
    html = client.get(url, {"objet": "formation"}).content.decode()
    assert "Soudure TIG" in html and "Secret de l" not in html
    html = client.get(url, {"formation": formation.pk}).content.decode()
    assert "Soudure TIG" in html and "Secret de l" not in html
    # unread: staff_user has read neither; after reading one, only the other remains
    client.get(reverse("messagerie:fil", args=[fil_autre.pk]))
    html = client.get(url, {"non_lus": "on"}).content.decode()
    assert "Soudure TIG" in html and "Secret de l" not in html


def test_the_list_costs_a_bounded_number_of_queries(client, staff_user, django_assert_max_num_queries):
    for _ in range(15):
        contact = ContactFactory()
        fil = services.fil_creer(organisme=contact.organisme, auteur=contact.user, sujet="Sujet", texte="x")
        services.message_envoyer(fil=fil, auteur=staff_user, texte="réponse")
    client.force_login(staff_user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("messagerie:fils")).status_code == 200


def test_a_contact_replies_with_an_attachment_and_the_gip_is_emailed(
    client, gestionnaire, staff_user, pdf_file, django_capture_on_commit_callbacks
):
    fil = services.fil_pour_objet(organisme=gestionnaire.organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="Merci de joindre la convention.")
    mail.outbox.clear()
    client.force_login(gestionnaire.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("messagerie:fil", args=[fil.pk]), {"texte": "La voici.", "pieces": [pdf_file]}, follow=True
        )
    assert response.status_code == 200
    assert "Votre message a été envoyé." in response.content.decode()
    message = fil.messages.latest("id")
    assert message.texte == "La voici." and message.pieces.count() == 1 and not message.de_equipe
    assert [m.to for m in mail.outbox] == [[current_region().gip.email]]


def test_a_bad_attachment_shows_a_french_error_on_the_field(client, gestionnaire):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fil = services.fil_pour_objet(organisme=gestionnaire.organisme)
    client.force_login(gestionnaire.user)
    faux = SimpleUploadedFile("virus.pdf", b"MZ not a pdf")
    response = client.post(reverse("messagerie:fil", args=[fil.pk]), {"texte": "Voici", "pieces": [faux]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "n&#x27;est ni un PDF ni une image" in html
    assert 'aria-invalid="true"' in html
    assert fil.messages.count() == 0


def test_staff_message_with_a_link_shows_a_button_to_the_contact(client, staff_user, gestionnaire):
    formation = FormationFactory(organisme=gestionnaire.organisme)
    fil = services.fil_pour_objet(organisme=gestionnaire.organisme, formation=formation)
    client.force_login(staff_user)
    lien = f"/offre/formations/{formation.pk}/modifier/"
    client.post(reverse("messagerie:fil", args=[fil.pk]), {"texte": "Précisez l'objectif.", "lien": lien})
    client.force_login(gestionnaire.user)
    html = client.get(reverse("messagerie:fil", args=[fil.pk])).content.decode()
    assert f'href="{lien}"' in html and "Aller à l'élément à corriger" in html
    # a contact cannot set a link (the field is staff only)
    client.post(reverse("messagerie:fil", args=[fil.pk]), {"texte": "ok", "lien": "/ailleurs/"})
    assert fil.messages.latest("id").lien == ""


def test_opening_a_thread_marks_it_read(client, gestionnaire, staff_user):
    fil = services.fil_pour_objet(organisme=gestionnaire.organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="Bonjour")
    assert services.messages_non_lus_count(user=gestionnaire.user, organisme=gestionnaire.organisme) == 1
    client.force_login(gestionnaire.user)
    client.get(reverse("messagerie:fil", args=[fil.pk]))
    assert services.messages_non_lus_count(user=gestionnaire.user, organisme=gestionnaire.organisme) == 0


def test_a_contact_starts_a_thread_about_one_of_its_formations(client, lecteur, django_capture_on_commit_callbacks):
    formation = FormationFactory(organisme=lecteur.organisme, intitule="Cariste")
    autre = FormationFactory(intitule="Pas à moi")
    client.force_login(lecteur.user)
    url = reverse("messagerie:nouveau")
    html = client.get(url).content.decode()
    assert "Cariste" in html and "Pas à moi" not in html
    response = client.post(url, {"sujet": "Ma formation", "texte": "Bonjour", "formation": autre.pk})
    assert response.status_code == 200 and not Fil.objects.exists()  # not a choice for this OF
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"sujet": "Ma formation", "texte": "Bonjour", "formation": formation.pk})
    fil = Fil.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("messagerie:fil", args=[fil.pk])
    assert fil.organisme == lecteur.organisme and fil.formation == formation
    assert len(mail.outbox) == 1


def test_a_thread_about_a_session_from_its_page(client, gestionnaire):
    session = SessionFactory(action__formation__organisme=gestionnaire.organisme)
    autre = SessionFactory()
    client.force_login(gestionnaire.user)
    url = reverse("messagerie:nouveau")
    assert client.get(url, {"session": autre.pk}).status_code == 404
    assert client.get(url, {"session": session.pk}).status_code == 200
    client.post(f"{url}?session={session.pk}", {"sujet": "Dates", "texte": "Les dates changent"})
    fil = Fil.objects.get()
    assert fil.session == session and fil.formation == session.action.formation


def test_staff_start_a_thread_with_an_organisme(client, staff_user, gestionnaire):
    client.force_login(staff_user)
    url = reverse("messagerie:nouveau")
    response = client.post(
        url, {"organisme": gestionnaire.organisme.pk, "sujet": "Votre fiche", "texte": "Merci de la compléter."}
    )
    assert response.status_code == 302
    fil = Fil.objects.get()
    assert fil.organisme == gestionnaire.organisme
    assert Notification.objects.filter(user=gestionnaire.user, fil=fil).count() == 1


def test_notices_list_mark_read_and_open(client, gestionnaire):
    (notice,) = notifier(
        organisme=gestionnaire.organisme,
        type="validation",
        sujet="Votre formation « Cariste » est validée",
        texte="",
        lien="/messagerie/",
    )
    autre = notifier(organisme=OrganismeFactory(), type="refus", sujet="Pas pour vous", texte="", lien="")
    assert autre == []  # no contact in that organisme
    client.force_login(gestionnaire.user)
    html = client.get(reverse("messagerie:notifications")).content.decode()
    assert "Cariste" in html and "Nouveau" in html
    response = client.post(reverse("messagerie:notification_lue", args=[notice.pk]), {"ouvrir": "1"})
    assert response.status_code == 302 and response["Location"] == "/messagerie/"
    notice.refresh_from_db()
    assert notice.lue_at is not None
    assert client.get(reverse("messagerie:notification_lue", args=[notice.pk])).status_code == 405


def test_a_user_cannot_touch_anothers_notice(client, gestionnaire, lecteur):
    notices = notifier(organisme=gestionnaire.organisme, type="validation", sujet="x", texte="", lien="")
    du_lecteur = next(n for n in notices if n.user_id == lecteur.user_id)
    client.force_login(gestionnaire.user)
    assert client.post(reverse("messagerie:notification_lue", args=[du_lecteur.pk])).status_code == 404
    du_lecteur.refresh_from_db()
    assert du_lecteur.lue_at is None


def test_mark_all_notices_read(client, gestionnaire):
    for i in range(3):
        notifier(organisme=gestionnaire.organisme, type="complement", sujet=f"n{i}", texte="", lien="")
    client.force_login(gestionnaire.user)
    client.post(reverse("messagerie:notifications_toutes_lues"))
    assert not Notification.objects.filter(user=gestionnaire.user, lue_at__isnull=True).exists()


def test_preferences_page_saves_choices(client, gestionnaire, django_capture_on_commit_callbacks):
    client.force_login(gestionnaire.user)
    html = client.get(reverse("messagerie:preferences")).content.decode()
    assert "Demande de complément d&#x27;information" in html
    data = {"validation": "on", "complement": "on", "refus": "on"}  # nouveau_message etc. unticked
    response = client.post(reverse("messagerie:preferences"), data)
    assert response.status_code == 302
    prefs = dict(PreferenceNotification.objects.filter(user=gestionnaire.user).values_list("type", "email"))
    assert prefs["nouveau_message"] is False and prefs["validation"] is True
    with django_capture_on_commit_callbacks(execute=True):
        notifier(organisme=gestionnaire.organisme, type="nouveau_message", sujet="m", texte="", lien="")
        notifier(organisme=gestionnaire.organisme, type="validation", sujet="v", texte="", lien="")
    assert [m.subject for m in mail.outbox] == ["[OFeli] v"]


def test_staff_start_a_thread_about_a_session(client, staff_user, gestionnaire):
    session = SessionFactory(action__formation__organisme=gestionnaire.organisme)
    client.force_login(staff_user)
    url = f"{reverse('messagerie:nouveau')}?session={session.pk}"
    html = client.get(url).content.decode()
    assert 'name="organisme"' not in html and 'name="formation"' not in html
    response = client.post(url, {"sujet": "Vos dates", "texte": "La fin précède le début."})
    assert response.status_code == 302
    fil = Fil.objects.get()
    assert (fil.organisme, fil.formation, fil.session) == (gestionnaire.organisme, session.action.formation, session)
    page = client.get(reverse("messagerie:fil", args=[fil.pk])).content.decode()
    assert f'href="{reverse("offre:session_detail", args=[session.pk])}"' in page
