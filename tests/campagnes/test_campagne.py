import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ofeli.campagnes import services
from ofeli.campagnes.models import Campagne, Participation, Relance
from ofeli.messagerie.models import Notification, PreferenceNotification, TypeNotification
from ofeli.offre.models import Etat, EtatRecrutement, Session, Source
from ofeli.organismes.models import Contact
from tests.factories import ActionFactory, ContactFactory, FormationFactory, SessionFactory

from .conftest import FAST, of_avec_offre, ouvrir

pytestmark = pytest.mark.django_db


def emails_de(organisme):
    return set(Contact.objects.filter(organisme=organisme).values_list("user__email", flat=True))


def contact_de(organisme):
    return Contact.objects.filter(organisme=organisme, peut_saisir=True).select_related("user").first()


def destinataires(mailoutbox):
    return {to for m in mailoutbox for to in m.to}


def test_a_campaign_from_its_opening_to_the_last_confirmation(
    client, monde, staff, mailoutbox, django_capture_on_commit_callbacks
):
    cfa_a, cfa_b = monde["cfa_a"], monde["cfa_b"]
    debut = timezone.localdate()
    fin = debut + datetime.timedelta(days=45)
    client.force_login(staff)
    form = {"type_offre": "apprentissage", "debut": debut.strftime("%d/%m/%Y"), "fin": fin.strftime("%d/%m/%Y")}

    # First step: the OFs concerned are shown, nothing is created nor sent.
    response = client.post(reverse("campagnes:nouvelle"), form)
    html = response.content.decode()
    assert response.status_code == 200
    assert "CFA Alpha" in html and "CFA Bêta" in html and "Lycée Gamma" not in html and "Organisme Delta" not in html
    assert "prévenir 2 organismes" in html
    assert not Campagne.objects.exists() and not mailoutbox

    # Second step: opened; the two CFAs (and only them) get a notice and an e-mail per contact.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campagnes:nouvelle"), {**form, "confirme": "True", "message": "Merci !"})
    campagne = Campagne.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("campagnes:suivi", args=[campagne.pk])
    assert campagne.type_offre == Source.APPRENTISSAGE and (campagne.debut, campagne.fin) == (debut, fin)
    assert set(campagne.participations.values_list("organisme__raison_sociale", flat=True)) == {"CFA Alpha", "CFA Bêta"}
    assert destinataires(mailoutbox) == emails_de(cfa_a) | emails_de(cfa_b)
    assert len(mailoutbox) == 3
    assert all(f"avant le {fin:%d/%m/%Y}" in m.subject for m in mailoutbox)
    assert all(reverse("campagnes:campagne", args=[campagne.pk]) in m.body and "Merci !" in m.body for m in mailoutbox)
    notices = Notification.objects.filter(type=TypeNotification.RAPPEL)
    assert set(notices.values_list("organisme__raison_sociale", flat=True)) == {"CFA Alpha", "CFA Bêta"}
    assert notices.count() == 3
    assert set(notices.values_list("lien", flat=True)) == {reverse("campagnes:campagne", args=[campagne.pk])}
    assert all(p.notifiee_at for p in campagne.participations.all())

    suivi = client.get(reverse("campagnes:suivi", args=[campagne.pk])).content.decode()
    assert "0 organisme sur 2" in suivi

    # The OF sees the campaign on its dashboard and its own formations on the campaign page.
    a = contact_de(cfa_a)
    en_cours = services.campagnes_en_cours_pour(cfa_a)
    assert [(c.campagne, c.nb_formations, c.confirmee) for c in en_cours] == [(campagne, 2, False)]
    fragment = render_to_string("campagnes/_tableau_de_bord.html", {"campagnes_en_cours": en_cours})
    assert "Vérifier mon offre" in fragment and reverse("campagnes:campagne", args=[campagne.pk]) in fragment
    client.force_login(a.user)
    page = client.get(reverse("campagnes:campagne", args=[campagne.pk])).content.decode()
    for formation in cfa_a.formations.all():
        assert formation.intitule in page
        assert reverse("offre:session_creer", args=[formation.pk]) in page
    for formation in cfa_b.formations.all():
        assert formation.intitule not in page
    assert "Je confirme mon offre" in page

    # The OF updates a session: staff see it in the follow-up.
    session = Session.objects.filter(action__formation__organisme=cfa_a).first()
    session.etat_recrutement = EtatRecrutement.FERME
    session._history_user = a.user
    session.save()
    page = client.get(reverse("campagnes:campagne", args=[campagne.pk])).content.decode()
    assert "mise à jour depuis l'ouverture" in page

    # Confirming twice records once.
    response = client.post(reverse("campagnes:confirmer", args=[campagne.pk]))
    assert response.status_code == 302
    premiere = Participation.objects.get(campagne=campagne, organisme=cfa_a).confirmee_at
    autre = Contact.objects.filter(organisme=cfa_a).exclude(pk=a.pk).get()
    client.force_login(autre.user)
    client.post(reverse("campagnes:confirmer", args=[campagne.pk]))
    participation = Participation.objects.get(campagne=campagne, organisme=cfa_a)
    assert participation.confirmee_at == premiere and participation.confirmee_par == a.user

    client.force_login(staff)
    suivi = client.get(reverse("campagnes:suivi", args=[campagne.pk])).content.decode()
    assert "1 organisme sur 2" in suivi and "1 session modifiée" in suivi
    detail = client.get(reverse("campagnes:suivi_organisme", args=[campagne.pk, cfa_a.pk])).content.decode()
    assert "État du recrutement : Ouvert → Fermé" in detail
    assert a.user.get_full_name() in detail

    # Reminding the others: only CFA Bêta, once a day.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campagnes:relancer_tous", args=[campagne.pk]))
    assert response.status_code == 302
    assert destinataires(mailoutbox) == emails_de(cfa_b)
    assert mailoutbox[0].subject.startswith("[OFeli] Relance")
    pb = Participation.objects.get(campagne=campagne, organisme=cfa_b)
    assert pb.nb_relances == 1 and pb.derniere_relance_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campagnes:relancer", args=[campagne.pk, cfa_b.pk]))
    assert len(mailoutbox) == 1 and Relance.objects.count() == 1
    suivi = client.get(reverse("campagnes:suivi", args=[campagne.pk])).content.decode()
    assert f"1 (dernière le {timezone.localdate():%d/%m/%Y})" in suivi

    # The last confirmation.
    client.force_login(contact_de(cfa_b).user)
    client.post(reverse("campagnes:confirmer", args=[campagne.pk]))
    assert services.progression(campagne) == {"total": 2, "confirmees": 2}
    client.force_login(staff)
    assert "2 organismes sur 2" in client.get(reverse("campagnes:suivi", args=[campagne.pk])).content.decode()

    # Closing: idempotent, and the campaign leaves the dashboards.
    client.post(reverse("campagnes:cloturer", args=[campagne.pk]))
    client.post(reverse("campagnes:cloturer", args=[campagne.pk]))
    campagne.refresh_from_db()
    assert campagne.statut == Campagne.Statut.CLOSE and campagne.close_par == staff
    assert services.campagnes_en_cours_pour(cfa_a) == []


def test_an_of_sees_only_its_own_campaign_page(client, monde, staff, django_capture_on_commit_callbacks):
    campagne = ouvrir(staff, capture=django_capture_on_commit_callbacks)
    cfa_b, lycee = monde["cfa_b"], monde["lycee"]

    client.force_login(contact_de(cfa_b).user)
    page = client.get(reverse("campagnes:campagne", args=[campagne.pk])).content.decode()
    assert cfa_b.formations.get().intitule in page
    assert not any(f.intitule in page for f in monde["cfa_a"].formations.all())

    # An OF not concerned: 404 on the page and on the confirmation, nothing recorded.
    client.force_login(contact_de(lycee).user)
    assert client.get(reverse("campagnes:campagne", args=[campagne.pk])).status_code == 404
    assert client.post(reverse("campagnes:confirmer", args=[campagne.pk])).status_code == 404
    assert not Participation.objects.filter(organisme=lycee).exists()
    assert services.campagnes_en_cours_pour(lycee) == []

    # A "consulter" contact sees the page but may not confirm.
    lecteur = ContactFactory(organisme=cfa_b, lecteur=True, **FAST)
    client.force_login(lecteur.user)
    page = client.get(reverse("campagnes:campagne", args=[campagne.pk])).content.decode()
    assert "Je confirme mon offre" not in page
    assert client.post(reverse("campagnes:confirmer", args=[campagne.pk])).status_code == 403
    assert Participation.objects.get(organisme=cfa_b).confirmee_at is None

    # Staff pages refuse an OF contact.
    for name, args in [("campagnes:liste", []), ("campagnes:suivi", [campagne.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403


def test_opening_again_duplicates_nothing_and_tells_only_the_new_ofs(
    monde, staff, mailoutbox, django_capture_on_commit_callbacks
):
    campagne = ouvrir(staff, capture=django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 3
    nouveau = of_avec_offre(Source.APPRENTISSAGE, nom="CFA Nouveau")
    mailoutbox.clear()

    encore = ouvrir(staff, capture=django_capture_on_commit_callbacks)
    assert encore == campagne and Campagne.objects.count() == 1
    assert campagne.participations.count() == 3
    assert destinataires(mailoutbox) == emails_de(nouveau)

    # Telling again (say the background task runs twice) tells nobody twice.
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifier_participants(campagne=campagne) == 0
    assert not mailoutbox

    # Another period for the same kind while one is open: refused; another kind: fine.
    with pytest.raises(ValidationError, match="déjà en cours"):
        ouvrir(staff, jours=90)
    scolaire = ouvrir(staff, type_offre=Source.SCOLAIRE)
    assert list(scolaire.participations.values_list("organisme", flat=True)) == [monde["lycee"].pk]


def test_the_ofs_concerned_exclude_archived_formations_and_inactive_organismes(monde, staff):
    FormationFactory(organisme=monde["of_libre"], source=Source.APPRENTISSAGE, archivee=True)
    monde["cfa_b"].actif = False
    monde["cfa_b"].save()
    campagne = ouvrir(staff)
    assert list(campagne.participations.values_list("organisme", flat=True)) == [monde["cfa_a"].pk]
    assert campagne.participations.get().nb_formations == 2


@pytest.mark.parametrize(
    ("debut", "fin", "champ", "erreur"),
    [
        (0, -1, "fin", "postérieure ou égale"),
        (-20, -10, "fin", "date de fin est passée"),
    ],
)
def test_a_wrong_period_is_refused_in_french(client, staff, monde, debut, fin, champ, erreur):
    aujourd_hui = timezone.localdate()
    client.force_login(staff)
    response = client.post(
        reverse("campagnes:nouvelle"),
        {
            "type_offre": "apprentissage",
            "debut": (aujourd_hui + datetime.timedelta(days=debut)).strftime("%d/%m/%Y"),
            "fin": (aujourd_hui + datetime.timedelta(days=fin)).strftime("%d/%m/%Y"),
            "confirme": "True",
        },
    )
    assert response.status_code == 200
    assert erreur in " ".join(response.context["form"].errors[champ])
    assert not Campagne.objects.exists()


def test_a_date_that_is_not_a_date_is_refused(client, staff):
    client.force_login(staff)
    response = client.post(reverse("campagnes:nouvelle"), {"type_offre": "scolaire", "debut": "31/02/2026", "fin": "x"})
    assert "Date invalide" in response.content.decode()


def test_only_staff_open_remind_and_close(monde, staff):
    campagne = ouvrir(staff)
    contact = contact_de(monde["cfa_a"])
    with pytest.raises(ValidationError):
        services.ouvrir_campagne(type_offre="scolaire", debut=campagne.debut, fin=campagne.fin, user=contact.user)
    with pytest.raises(ValidationError):
        services.relancer(participation=campagne.participations.first(), user=contact.user)
    with pytest.raises(ValidationError):
        services.cloturer_campagne(campagne=campagne, user=contact.user)


def test_a_closed_campaign_takes_no_confirmation_nor_reminder(monde, staff, mailoutbox):
    campagne = ouvrir(staff)
    services.cloturer_campagne(campagne=campagne, user=staff)
    with pytest.raises(ValidationError, match="clôturée"):
        services.confirmer_offre(campagne=campagne, organisme=monde["cfa_a"], user=contact_de(monde["cfa_a"]).user)
    with pytest.raises(ValidationError, match="clôturée"):
        services.relancer(participation=campagne.participations.first(), user=staff)
    # A closed campaign frees the kind: a new one may open.
    assert ouvrir(staff, jours=90) != campagne


def test_reminders_respect_confirmation_and_count(monde, staff, mailoutbox, django_capture_on_commit_callbacks):
    campagne = ouvrir(staff)
    services.confirmer_offre(campagne=campagne, organisme=monde["cfa_a"], user=contact_de(monde["cfa_a"]).user)
    pa = campagne.participations.get(organisme=monde["cfa_a"])
    assert services.relancer(participation=pa, user=staff) is None
    pb = campagne.participations.get(organisme=monde["cfa_b"])
    with django_capture_on_commit_callbacks(execute=True):
        services.relancer(participation=pb, user=staff)
    assert destinataires(mailoutbox) == emails_de(monde["cfa_b"])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        assert services.relancer_non_confirmes(campagne=campagne, user=staff) == 1
    pb.refresh_from_db()
    assert pb.nb_relances == 2 and pb.relances.count() == 2


def test_the_campaign_email_follows_the_contact_preference_and_the_notice_stays(
    monde, staff, mailoutbox, django_capture_on_commit_callbacks
):
    contact = contact_de(monde["cfa_b"])
    PreferenceNotification.objects.create(user=contact.user, type=TypeNotification.RAPPEL, email=False)
    ouvrir(staff, capture=django_capture_on_commit_callbacks)
    assert contact.user.email not in destinataires(mailoutbox)
    assert Notification.objects.filter(user=contact.user, type=TypeNotification.RAPPEL).count() == 1


def test_the_dashboard_fragment_says_what_to_check(monde, staff):
    campagne = ouvrir(staff, jours=10)
    formation = monde["cfa_a"].formations.first()
    SessionFactory(action=ActionFactory(formation=formation), etat=Etat.BROUILLON)
    [en_cours] = services.campagnes_en_cours_pour(monde["cfa_a"])
    assert en_cours.nb_sessions_brouillon == 1 and en_cours.jours_restants == 10 and not en_cours.en_retard
    html = render_to_string("campagnes/_tableau_de_bord.html", {"campagnes_en_cours": [en_cours]})
    assert "vos 2 formations en apprentissage" in html
    assert f"avant le {campagne.fin:%d/%m/%Y}" in html and "1 session en brouillon" in html
    plus_tard = services.campagnes_en_cours_pour(monde["cfa_a"], aujourd_hui=campagne.fin + datetime.timedelta(days=1))
    assert plus_tard[0].en_retard
    assert "date limite" in render_to_string("campagnes/_tableau_de_bord.html", {"campagnes_en_cours": plus_tard})


def test_the_staff_list_paginates_and_shows_progress(client, staff, monde):
    aujourd_hui = timezone.localdate()
    for i in range(30):
        Campagne.objects.create(
            type_offre="scolaire",
            debut=aujourd_hui - datetime.timedelta(days=400 + i),
            fin=aujourd_hui - datetime.timedelta(days=300 + i),
            statut=Campagne.Statut.CLOSE,
            ouverte_at=timezone.now() - datetime.timedelta(days=400 + i),
            close_at=timezone.now() - datetime.timedelta(days=300 + i),
        )
    campagne = ouvrir(staff)
    services.confirmer_offre(campagne=campagne, organisme=monde["cfa_a"], user=contact_de(monde["cfa_a"]).user)
    client.force_login(staff)
    page1 = client.get(reverse("campagnes:liste"))
    assert len(page1.context["page"]) == 25 and page1.context["page"].paginator.num_pages == 2
    assert "1 organisme sur 2 a confirmé" in page1.content.decode()
    assert len(client.get(reverse("campagnes:liste") + "?page=2").context["page"]) == 6


def test_the_follow_up_filters_confirmed_and_not(client, staff, monde):
    campagne = ouvrir(staff)
    services.confirmer_offre(campagne=campagne, organisme=monde["cfa_a"], user=contact_de(monde["cfa_a"]).user)
    client.force_login(staff)
    url = reverse("campagnes:suivi", args=[campagne.pk])
    confirme = client.get(url + "?etat=confirme").content.decode()
    non = client.get(url + "?etat=non_confirme").content.decode()
    assert "CFA Alpha" in confirme and "CFA Bêta" not in confirme
    assert "CFA Bêta" in non and "CFA Alpha" not in non
    assert "CFA Bêta" in client.get(url + "?q=Bêta").content.decode()
