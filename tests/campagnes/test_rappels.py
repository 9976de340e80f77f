import datetime
import html
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from ofeli.campagnes import rappels
from ofeli.campagnes.models import EnvoiRappel, RappelElement, TypeRappel
from ofeli.campagnes.tasks import a_sept_heures_paris
from ofeli.messagerie.models import Notification, PreferenceNotification, TypeNotification
from ofeli.offre.models import Etat, EtatRecrutement, Formation, Session, Source
from ofeli.validation.models import DemandeComplement
from tests.factories import ActionFactory, ContactFactory, FormationFactory, OrganismeFactory, SessionFactory

from .conftest import FAST

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
LUNDI = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
JOUR = datetime.timedelta(days=1)


@pytest.fixture
def horloge():
    with time_machine.travel(LUNDI, tick=False) as traveller:
        yield traveller


def aller(horloge, jours):
    horloge.move_to(LUNDI + jours * JOUR)


def organisme_avec_contacts(n=1, **kwargs):
    organisme = OrganismeFactory(**kwargs)
    contacts = [ContactFactory(organisme=organisme, peut_saisir=True, **FAST) for _ in range(n)]
    return organisme, contacts


def session_qui_finit(organisme, *, dans_jours, source=Source.OF, **kwargs):
    formation = FormationFactory(organisme=organisme, source=source, validee=True)
    debut = LUNDI.date() - datetime.timedelta(days=60)
    return SessionFactory(
        action=ActionFactory(formation=formation),
        debut=debut,
        fin=LUNDI.date() + datetime.timedelta(days=dans_jours),
        **kwargs,
    )


def formation_ancienne(organisme, *, jours=400, source=Source.OF):
    formation = FormationFactory(organisme=organisme, source=source, validee=True)
    session = SessionFactory(
        action=ActionFactory(formation=formation),
        debut=LUNDI.date() + datetime.timedelta(days=100),
        fin=LUNDI.date() + datetime.timedelta(days=200),
    )
    vieux = LUNDI - datetime.timedelta(days=jours)
    Formation.objects.filter(pk=formation.pk).update(updated_at=vieux)
    Session.objects.filter(pk=session.pk).update(updated_at=vieux)
    return formation


def complement(organisme, *, jours=8, statut=DemandeComplement.Statut.OUVERTE):
    formation = FormationFactory(organisme=organisme, etat=Etat.COMPLEMENT)
    demande = DemandeComplement.objects.create(
        organisme=organisme, formation=formation, message="Précisez le prix.", statut=statut
    )
    DemandeComplement.objects.filter(pk=demande.pk).update(demandee_at=LUNDI - datetime.timedelta(days=jours))
    return demande


def envoyer(capture):
    with capture(execute=True):
        return rappels.envoyer_rappels()


def cles(organisme):
    return sorted(RappelElement.objects.filter(organisme=organisme).values_list("type", "cle"))


# --- each kind ----------------------------------------------------------------------------------


def test_a_session_ending_soon_while_open_to_recruitment(horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, [contact] = organisme_avec_contacts()
    session = session_qui_finit(organisme, dans_jours=20)
    session_qui_finit(organisme, dans_jours=45)  # too far
    session_qui_finit(organisme, dans_jours=10, etat_recrutement=EtatRecrutement.FERME)  # closed
    session_qui_finit(organisme, dans_jours=10, etat=Etat.ARCHIVE_OF)  # archived
    session_qui_finit(organisme, dans_jours=10, source=Source.REGION)  # the Région's offer: not the OF's to update
    session_qui_finit(organisme, dans_jours=-2)  # already ended: not "about to end"

    resultat = envoyer(django_capture_on_commit_callbacks)

    assert resultat.nb_organismes == 1 and resultat.nb_elements == 1
    assert cles(organisme) == [(TypeRappel.SESSION_FIN_PROCHE, f"session:{session.pk}:{session.fin.isoformat()}")]
    [mail] = mailoutbox
    assert mail.to == [contact.user.email]
    assert f"se termine le {session.fin:%d/%m/%Y}" in mail.body
    assert reverse("offre:session_detail", args=[session.pk]) in mail.body


def test_a_formation_not_updated_for_a_year(horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, _ = organisme_avec_contacts()
    ancienne = formation_ancienne(organisme)
    formation_ancienne(organisme, jours=300)  # updated less than a year ago
    recente = formation_ancienne(organisme)
    session = Session.objects.get(action__formation=recente)
    session.places_restantes = 3
    session.save()  # one of its sessions was just updated: the formation is kept up to date
    Formation.objects.filter(pk=formation_ancienne(organisme).pk).update(etat=Etat.ARCHIVE_OF)

    envoyer(django_capture_on_commit_callbacks)

    assert cles(organisme) == [(TypeRappel.FORMATION_ANCIENNE, f"formation:{ancienne.pk}")]
    assert ancienne.intitule in mailoutbox[0].body
    assert "dernière mise à jour le" in mailoutbox[0].body


def test_a_request_for_complement_unanswered_after_a_week(horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, _ = organisme_avec_contacts()
    demande = complement(organisme, jours=8)
    complement(organisme, jours=3)  # too recent
    complement(organisme, jours=20, statut=DemandeComplement.Statut.CORRIGEE)  # answered
    complement(organisme, jours=20, statut=DemandeComplement.Statut.ANNULEE)  # cancelled

    envoyer(django_capture_on_commit_callbacks)

    assert cles(organisme) == [(TypeRappel.COMPLEMENT_SANS_REPONSE, f"demande:{demande.pk}")]
    assert demande.formation.intitule in mailoutbox[0].body and "sans réponse" in mailoutbox[0].body


def test_nothing_due_sends_nothing(horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, _ = organisme_avec_contacts()
    session_qui_finit(organisme, dans_jours=90)
    assert envoyer(django_capture_on_commit_callbacks).nb_organismes == 0
    assert not mailoutbox and not EnvoiRappel.objects.exists() and not Notification.objects.exists()


def test_an_of_without_active_contact_keeps_its_reminders_for_later(
    horloge, mailoutbox, django_capture_on_commit_callbacks
):
    organisme, [contact] = organisme_avec_contacts()
    session_qui_finit(organisme, dans_jours=5)
    contact.actif = False
    contact.save()
    envoyer(django_capture_on_commit_callbacks)
    assert not EnvoiRappel.objects.exists() and not mailoutbox
    contact.actif = True
    contact.save()
    aller(horloge, 1)
    envoyer(django_capture_on_commit_callbacks)
    assert EnvoiRappel.objects.count() == 1 and len(mailoutbox) == 1


# --- the digest -----------------------------------------------------------------------------------


def test_one_digest_per_contact_groups_every_kind(client, horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, contacts = organisme_avec_contacts(2)
    session_qui_finit(organisme, dans_jours=12)
    session_qui_finit(organisme, dans_jours=25)
    formation_ancienne(organisme)
    complement(organisme)
    autre, [contact_autre] = organisme_avec_contacts()
    complement(autre)

    envoyer(django_capture_on_commit_callbacks)

    # One e-mail and one notice per contact, for each OF: never one per item.
    assert sorted(m.to[0] for m in mailoutbox) == sorted(c.user.email for c in [*contacts, contact_autre])
    assert Notification.objects.filter(organisme=organisme, type=TypeNotification.RAPPEL).count() == 2
    mail = next(m for m in mailoutbox if m.to == [contacts[0].user.email])
    assert "4 points à mettre à jour" in mail.subject
    body = mail.body
    positions = [body.index(f"{t.label} ({n})") for t, n in zip(TypeRappel, (2, 1, 1), strict=True)]
    assert positions == sorted(positions)
    envoi = EnvoiRappel.objects.get(organisme=organisme)
    assert envoi.nb_destinataires == 2 and envoi.elements.count() == 4
    # The other OF's digest does not mention this one's items.
    mail_autre = next(m for m in mailoutbox if m.to == [contact_autre.user.email])
    assert "1 point à mettre à jour" in mail_autre.subject
    assert TypeRappel.SESSION_FIN_PROCHE.label not in mail_autre.body

    # The notice leads to the page of the reminders, grouped the same way; another OF does not see them.
    notice = Notification.objects.filter(user=contacts[0].user).get()
    assert notice.lien == reverse("campagnes:rappels")
    client.force_login(contacts[0].user)
    page = html.unescape(client.get(notice.lien).content.decode())
    assert f"{TypeRappel.FORMATION_ANCIENNE.label} (1)" in page and f"{TypeRappel.SESSION_FIN_PROCHE.label} (2)" in page
    client.force_login(contact_autre.user)
    page = html.unescape(client.get(notice.lien).content.decode())
    assert TypeRappel.SESSION_FIN_PROCHE.label not in page and f"{TypeRappel.COMPLEMENT_SANS_REPONSE.label} (1)" in page


def test_the_digest_email_follows_the_preference_but_the_notice_stays(
    horloge, mailoutbox, django_capture_on_commit_callbacks
):
    organisme, [contact] = organisme_avec_contacts()
    PreferenceNotification.objects.create(user=contact.user, type=TypeNotification.RAPPEL, email=False)
    complement(organisme)
    envoyer(django_capture_on_commit_callbacks)
    assert not mailoutbox
    assert Notification.objects.filter(user=contact.user, type=TypeNotification.RAPPEL).count() == 1


# --- once per period ----------------------------------------------------------------------------


def test_reminders_are_sent_once_per_period(horloge, mailoutbox, django_capture_on_commit_callbacks):
    organisme, _ = organisme_avec_contacts()
    session = session_qui_finit(organisme, dans_jours=25)
    ancienne = formation_ancienne(organisme)
    demande = complement(organisme)

    # Monday: the digest with the three items.
    assert envoyer(django_capture_on_commit_callbacks).nb_elements == 3
    assert len(mailoutbox) == 1

    # Later the same day and every day of the week: nothing, even when something new comes up.
    envoyer(django_capture_on_commit_callbacks)
    aller(horloge, 3)
    nouvelle = session_qui_finit(organisme, dans_jours=10)
    resultat = envoyer(django_capture_on_commit_callbacks)
    assert resultat.nb_organismes == 0 and resultat.reportes == 1
    aller(horloge, 6)
    envoyer(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1 and EnvoiRappel.objects.count() == 1

    # A week later: the new session and the still unanswered request; not the session already reminded, nor
    # the old formation (reminded every 30 days).
    aller(horloge, 7)
    resultat = envoyer(django_capture_on_commit_callbacks)
    [elements] = resultat.envois.values()
    assert sorted(e.cle for e in elements) == sorted(
        [f"session:{nouvelle.pk}:{nouvelle.fin.isoformat()}", f"demande:{demande.pk}"]
    )
    assert len(mailoutbox) == 2

    # The request is answered: no more reminder for it. 30 days after the first: the old formation again.
    DemandeComplement.objects.filter(pk=demande.pk).update(statut=DemandeComplement.Statut.CORRIGEE)
    aller(horloge, 14)
    assert envoyer(django_capture_on_commit_callbacks).nb_organismes == 0
    aller(horloge, 30)
    [elements] = envoyer(django_capture_on_commit_callbacks).envois.values()
    assert [e.cle for e in elements] == [f"formation:{ancienne.pk}"]

    # A session whose end date changes is a new situation: reminded again (once).
    Session.objects.filter(pk=session.pk).update(fin=LUNDI.date() + datetime.timedelta(days=50))
    aller(horloge, 37)
    [elements] = envoyer(django_capture_on_commit_callbacks).envois.values()
    assert [e.cle for e in elements] == [
        f"session:{session.pk}:{(LUNDI.date() + datetime.timedelta(days=50)).isoformat()}"
    ]
    assert len(mailoutbox) == 4


def test_the_command_simulates_then_sends_and_the_task_runs_at_seven_in_paris(
    horloge, mailoutbox, django_capture_on_commit_callbacks
):
    organisme, _ = organisme_avec_contacts(raison_sociale="CFA des rappels")
    complement(organisme)
    out = io.StringIO()
    call_command("envoyer_rappels", "--simulation", stdout=out)
    assert "CFA des rappels : 1 rappel(s)" in out.getvalue() and "seraient envoyés" in out.getvalue()
    assert not EnvoiRappel.objects.exists() and not mailoutbox

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("envoyer_rappels", stdout=out)
    assert "1 rappel(s) envoyés à 1 organisme(s)" in out.getvalue()
    assert EnvoiRappel.objects.count() == 1 and len(mailoutbox) == 1

    out = io.StringIO()
    call_command("envoyer_rappels", stdout=out)
    assert "1 organisme(s) déjà prévenu(s) cette semaine" in out.getvalue()

    # Huey passes naive UTC times: 06:00 UTC is 07:00 in Paris in winter, 05:00 UTC in summer.
    assert a_sept_heures_paris(datetime.datetime(2026, 1, 15, 6, 0))
    assert not a_sept_heures_paris(datetime.datetime(2026, 1, 15, 7, 0))
    assert a_sept_heures_paris(datetime.datetime(2026, 7, 15, 5, 0))
