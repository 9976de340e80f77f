import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ofeli.core.region import current_region
from ofeli.messagerie import services
from ofeli.messagerie.models import Fil, LectureFil, Message, Notification, PreferenceNotification, TypeNotification
from tests.factories import ContactFactory, FormationFactory, OrganismeFactory, SessionFactory, UserFactory

from .conftest import PDF

pytestmark = pytest.mark.django_db


def test_fil_pour_objet_creates_once_then_returns_the_same(organisme):
    formation = FormationFactory(organisme=organisme)
    fil = services.fil_pour_objet(organisme=organisme, formation=formation)
    assert fil.formation == formation and fil.session is None
    assert "Formation « " in fil.sujet
    assert services.fil_pour_objet(organisme=organisme, formation=formation) == fil
    general = services.fil_pour_objet(organisme=organisme)
    assert general != fil and general.formation is None
    assert Fil.objects.count() == 2


def test_fil_pour_objet_about_a_session_takes_its_formation(organisme):
    session = SessionFactory(action__formation__organisme=organisme)
    fil = services.fil_pour_objet(organisme=organisme, session=session)
    assert fil.session == session
    assert fil.formation == session.action.formation


def test_fil_pour_objet_refuses_another_organismes_formation(organisme):
    autre = FormationFactory()
    with pytest.raises(ValidationError) as exc:
        services.fil_pour_objet(organisme=organisme, formation=autre)
    assert "formation" in exc.value.message_dict


def test_staff_message_notifies_every_active_contact_in_app_and_by_email(
    organisme, gestionnaire, lecteur, staff_user, django_capture_on_commit_callbacks
):
    inactif = ContactFactory(organisme=organisme, actif=False)
    ContactFactory()  # a contact of another organisme
    fil = services.fil_pour_objet(organisme=organisme)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_envoyer(fil=fil, auteur=staff_user, texte="Merci de préciser le lieu.")
    assert message.de_equipe is True
    notified = set(Notification.objects.values_list("user_id", flat=True))
    assert notified == {gestionnaire.user_id, lecteur.user_id}
    assert inactif.user_id not in notified
    assert sorted(m.to[0] for m in mail.outbox) == sorted([gestionnaire.user.email, lecteur.user.email])
    body = mail.outbox[0].body
    assert "Merci de préciser le lieu." in body
    assert f"/messagerie/fil/{fil.pk}/" in body
    assert Notification.objects.first().type == TypeNotification.NOUVEAU_MESSAGE


def test_an_email_is_not_sent_before_the_transaction_commits(organisme, gestionnaire, staff_user):
    fil = services.fil_pour_objet(organisme=organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="Bonjour")
    assert mail.outbox == []  # the test's transaction never commits


def test_contact_message_emails_the_gip_address(organisme, gestionnaire, django_capture_on_commit_callbacks):
    fil = services.fil_pour_objet(organisme=organisme)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Ma formation n'apparaît pas.")
    assert [m.to for m in mail.outbox] == [[current_region().gip.email]]
    assert str(organisme) in mail.outbox[0].subject
    assert "Ma formation n'apparaît pas." in mail.outbox[0].body  # no HTML escaping in text e-mails
    assert Notification.objects.count() == 0


def test_preferences_switch_off_the_email_but_not_the_notice(
    organisme, gestionnaire, lecteur, staff_user, django_capture_on_commit_callbacks
):
    PreferenceNotification.objects.create(user=lecteur.user, type=TypeNotification.NOUVEAU_MESSAGE, email=False)
    fil = services.fil_pour_objet(organisme=organisme)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_envoyer(fil=fil, auteur=staff_user, texte="Bonjour")
    assert [m.to for m in mail.outbox] == [[gestionnaire.user.email]]
    assert Notification.objects.filter(user=lecteur.user).count() == 1


def test_a_contact_cannot_write_to_another_organisme(organisme, gestionnaire):
    autre = services.fil_pour_objet(organisme=OrganismeFactory())
    with pytest.raises(PermissionDenied):
        services.message_envoyer(fil=autre, auteur=gestionnaire.user, texte="Bonjour")
    assert Message.objects.count() == 0


def test_an_inactive_contact_cannot_write(organisme):
    contact = ContactFactory(organisme=organisme, actif=False)
    fil = services.fil_pour_objet(organisme=organisme)
    with pytest.raises(PermissionDenied):
        services.message_envoyer(fil=fil, auteur=contact.user, texte="Bonjour")


def test_empty_message_and_foreign_link_are_refused_with_french_messages(organisme, staff_user):
    fil = services.fil_pour_objet(organisme=organisme)
    with pytest.raises(ValidationError) as exc:
        services.message_envoyer(fil=fil, auteur=staff_user, texte="   ", lien="https://ailleurs.example/")
    assert exc.value.message_dict["texte"] == ["Écrivez votre message."]
    assert "commençant par « / »" in exc.value.message_dict["lien"][0]
    with pytest.raises(ValidationError):
        services.message_envoyer(fil=fil, auteur=staff_user, texte="ok", lien="//ailleurs.example/")
    assert Message.objects.count() == 0


def test_attachments_are_checked_by_content_and_stored_privately(
    organisme, gestionnaire, pdf_file, png_file, private_storage
):
    fil = services.fil_pour_objet(organisme=organisme)
    message = services.message_envoyer(
        fil=fil, auteur=gestionnaire.user, texte="Voici la convention", pieces=[pdf_file, png_file]
    )
    pieces = list(message.pieces.order_by("id"))
    assert [(p.nom_original, p.content_type) for p in pieces] == [
        ("convention.pdf", "application/pdf"),
        ("capture.png", "image/png"),
    ]
    stored = private_storage / pieces[0].fichier.name
    assert stored.read_bytes() == PDF
    assert "convention" not in pieces[0].fichier.name  # the name on disk is not the user's


def test_a_renamed_executable_is_refused(organisme, gestionnaire):
    fil = services.fil_pour_objet(organisme=organisme)
    faux = SimpleUploadedFile("agrement.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Voici", pieces=[faux])
    assert "n'est ni un PDF ni une image" in exc.value.message_dict["pieces"][0]
    assert Message.objects.count() == 0


def test_attachment_size_is_limited(organisme, gestionnaire, settings):
    settings.OFELI_MAX_ATTACHMENT_SIZE = 100
    fil = services.fil_pour_objet(organisme=organisme)
    gros = SimpleUploadedFile("gros.pdf", PDF + b"0" * 200, content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Voici", pieces=[gros])
    assert "dépasse la taille maximale" in exc.value.message_dict["pieces"][0]


def test_too_many_attachments_are_refused(organisme, gestionnaire):
    fil = services.fil_pour_objet(organisme=organisme)
    pieces = [SimpleUploadedFile(f"p{i}.pdf", PDF) for i in range(6)]
    with pytest.raises(ValidationError) as exc:
        services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Voici", pieces=pieces)
    assert "au plus 5 fichiers" in exc.value.message_dict["pieces"][0]


def test_unread_counts_are_per_user_and_count_the_other_side(organisme, gestionnaire, lecteur, staff_user):
    autre_staff = UserFactory(staff=True)
    fil = services.fil_pour_objet(organisme=organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="1")
    services.message_envoyer(fil=fil, auteur=staff_user, texte="2")
    services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="3")
    # a contact: the two messages of the équipe offre; answering means having read the thread.
    assert services.messages_non_lus_count(user=lecteur.user, organisme=organisme) == 2
    assert services.messages_non_lus_count(user=gestionnaire.user, organisme=organisme) == 0
    # staff: the OF's message; staff_user has read the thread when answering, not the later message.
    assert services.messages_non_lus_count(user=staff_user) == 1
    assert services.messages_non_lus_count(user=autre_staff) == 1
    annotated = services.annoter_non_lus(Fil.objects.filter(pk=fil.pk), lecteur.user).get()
    assert (annotated.non_lus, annotated.nb_messages) == (2, 3)
    services.fil_marquer_lu(fil=fil, user=lecteur.user)
    assert services.messages_non_lus_count(user=lecteur.user, organisme=organisme) == 0
    services.message_envoyer(fil=fil, auteur=staff_user, texte="4")
    assert services.messages_non_lus_count(user=lecteur.user, organisme=organisme) == 1
    assert services.messages_non_lus_count(user=gestionnaire.user, organisme=organisme) == 1
    # another organisme's contact sees none of it
    assert services.messages_non_lus_count(user=ContactFactory().user, organisme=OrganismeFactory()) == 0


def test_reading_a_thread_marks_its_notices_read_and_the_badge_counts_each_message_once(
    organisme, gestionnaire, staff_user
):
    from ofeli.messagerie.notifications import notifier

    fil = services.fil_pour_objet(organisme=organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="1")
    notifier(organisme=organisme, type="validation", sujet="Formation validée", texte="", lien="/")
    assert services.badge_count(user=gestionnaire.user, organisme=organisme) == 2  # 1 message + 1 notice
    services.fil_marquer_lu(fil=fil, user=gestionnaire.user)
    assert Notification.objects.get(user=gestionnaire.user, fil=fil).lue_at is not None
    assert services.badge_count(user=gestionnaire.user, organisme=organisme) == 1
    lecture = LectureFil.objects.get(user=gestionnaire.user, fil=fil)
    assert lecture.dernier_message_lu == fil.messages.latest("id").pk


def test_fil_creer_needs_a_subject(organisme, gestionnaire):
    with pytest.raises(ValidationError) as exc:
        services.fil_creer(organisme=organisme, auteur=gestionnaire.user, sujet=" ", texte="Bonjour")
    assert exc.value.message_dict == {"sujet": ["Indiquez le sujet du message."]}
    fil = services.fil_creer(organisme=organisme, auteur=gestionnaire.user, sujet="Question", texte="Bonjour")
    assert fil.messages.count() == 1 and fil.created_by == gestionnaire.user


def test_a_caller_with_its_own_notice_can_post_without_notifying(
    organisme, gestionnaire, staff_user, django_capture_on_commit_callbacks
):
    fil = services.fil_pour_objet(organisme=organisme)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_envoyer(fil=fil, auteur=staff_user, texte="Complément", notifier_destinataires=False)
    assert mail.outbox == [] and Notification.objects.count() == 0
    assert services.messages_non_lus_count(user=gestionnaire.user, organisme=organisme) == 1


def test_files_written_are_removed_when_saving_an_attachment_fails(
    organisme, gestionnaire, pdf_file, png_file, private_storage, monkeypatch
):
    from ofeli.messagerie.models import PieceJointeMessage

    original = PieceJointeMessage.save
    calls = []

    def save_then_fail(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 2:
            raise RuntimeError("disque plein")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PieceJointeMessage, "save", save_then_fail)
    fil = services.fil_pour_objet(organisme=organisme)
    with pytest.raises(RuntimeError):
        services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Voici", pieces=[pdf_file, png_file])
    assert not [p for p in private_storage.rglob("*") if p.is_file()]
