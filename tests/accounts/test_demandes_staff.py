"""The staff's screens and services for account requests."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse

from ofeli.accounts.models import CleActivation, DemandeCompte, User
from ofeli.accounts.services import DemandeDejaTraitee, demande_compte_accepter, demande_compte_refuser
from ofeli.organismes.models import Contact, Organisme
from tests.factories import CommuneFactory, DemandeCompteFactory, OrganismeFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


# --- Services -------------------------------------------------------------------------------------


def test_accepter_creates_organisme_user_contact_and_sends_the_key(staff_user, django_capture_on_commit_callbacks):
    commune = CommuneFactory()
    demande = DemandeCompteFactory(commune=commune, email="claire@formapro.fr", ligne2="Bâtiment B")
    with django_capture_on_commit_callbacks(execute=True):
        demande_compte_accepter(demande=demande, par=staff_user)
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.ACCEPTEE
    assert demande.traitee_par == staff_user
    assert demande.traitee_le is not None
    organisme = Organisme.objects.get()
    assert demande.organisme == organisme
    assert (organisme.siret, organisme.nda, organisme.raison_sociale) == (
        demande.siret,
        demande.nda,
        demande.raison_sociale,
    )
    assert (organisme.ligne1, organisme.ligne2, organisme.code_postal, organisme.ville) == (
        "3 place du Martroi",
        "Bâtiment B",
        "45000",
        "Orléans",
    )
    assert organisme.commune == commune
    assert organisme.departement == "45"
    assert organisme.source == Organisme.Source.OFELI
    user = User.objects.get(email="claire@formapro.fr")
    assert (user.first_name, user.last_name, user.civilite) == ("Claire", "Martin", "mme")
    assert not user.has_usable_password()
    contact = Contact.objects.get()
    assert (contact.user, contact.organisme) == (user, organisme)
    assert contact.peut_gerer and contact.peut_saisir and contact.actif
    assert contact.consentement_at == demande.consentement_at
    cle = CleActivation.objects.get()
    assert (cle.user, cle.organisme, cle.created_by, cle.kind) == (
        user,
        organisme,
        staff_user,
        CleActivation.Kind.DEMANDE,
    )
    assert [m.to for m in mail.outbox] == [["claire@formapro.fr"]]
    assert "/compte/activation/" in mail.outbox[0].body


def test_accepter_twice_is_impossible(staff_user):
    demande = DemandeCompteFactory()
    demande_compte_accepter(demande=demande, par=staff_user)
    autre_staff = UserFactory(staff=True)
    with pytest.raises(DemandeDejaTraitee):
        # A stale copy, as a second staff member would hold it.
        demande_compte_accepter(demande=DemandeCompte(pk=demande.pk), par=autre_staff)
    with pytest.raises(DemandeDejaTraitee):
        demande_compte_refuser(demande=demande, par=autre_staff, motif="Trop tard")
    assert Organisme.objects.count() == 1
    assert CleActivation.objects.count() == 1
    demande.refresh_from_db()
    assert demande.traitee_par == staff_user


def test_accepter_refuses_an_organisme_registered_meanwhile(staff_user):
    demande = DemandeCompteFactory()
    OrganismeFactory(siret=demande.siret)
    with pytest.raises(ValidationError) as exc:
        demande_compte_accepter(demande=demande, par=staff_user)
    assert "déjà enregistré" in exc.value.message_dict["siret"][0]
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE
    assert not User.objects.filter(email=demande.email).exists()


def test_accepter_is_all_or_nothing(staff_user, monkeypatch):
    demande = DemandeCompteFactory()

    def boom(**kwargs):
        raise RuntimeError("SMTP en panne")

    monkeypatch.setattr("ofeli.accounts.services.cle_activation_envoyer", boom)
    with pytest.raises(RuntimeError):
        demande_compte_accepter(demande=demande, par=staff_user)
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE
    assert not Organisme.objects.exists()
    assert not Contact.objects.exists()
    assert not User.objects.filter(email=demande.email).exists()


def test_accepter_for_an_existing_user_adds_a_contact_without_key(staff_user, django_capture_on_commit_callbacks):
    existing = UserFactory(email="multi@exemple.fr")
    demande = DemandeCompteFactory(email="MULTI@exemple.fr")
    with django_capture_on_commit_callbacks(execute=True):
        demande_compte_accepter(demande=demande, par=staff_user)
    assert Contact.objects.get().user == existing
    assert not CleActivation.objects.exists()
    assert "est acceptée" in mail.outbox[0].subject
    existing.refresh_from_db()
    assert existing.check_password("Mot-de-passe-1")


def test_refuser_needs_a_reason_and_mails_it(staff_user, django_capture_on_commit_callbacks):
    demande = DemandeCompteFactory()
    for motif in ["", "   "]:
        with pytest.raises(ValidationError) as exc:
            demande_compte_refuser(demande=demande, par=staff_user, motif=motif)
        assert exc.value.message_dict == {"motif": ["Le motif du refus est obligatoire."]}
    with django_capture_on_commit_callbacks(execute=True):
        demande_compte_refuser(demande=demande, par=staff_user, motif="  Le NDA n'est plus valide.  ")
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.REFUSEE
    assert demande.motif == "Le NDA n'est plus valide."
    assert mail.outbox[0].to == [demande.email]
    assert "Le NDA n'est plus valide." in mail.outbox[0].body
    assert not Organisme.objects.exists()


# --- Screens -----------------------------------------------------------------------------------------


def test_list_shows_pending_requests_oldest_first_and_filters(staff_client, staff_user):
    ancienne = DemandeCompteFactory(raison_sociale="Alpha formation")
    recente = DemandeCompteFactory(raison_sociale="Beta formation")
    refusee = DemandeCompteFactory(raison_sociale="Gamma formation")
    demande_compte_refuser(demande=refusee, par=staff_user, motif="Doublon")
    html = staff_client.get(reverse("accounts:demandes")).content.decode()
    assert html.index("Alpha formation") < html.index("Beta formation")
    assert "Gamma formation" not in html
    html = staff_client.get(reverse("accounts:demandes") + "?statut=refusee").content.decode()
    assert "Gamma formation" in html and "Alpha formation" not in html
    html = staff_client.get(reverse("accounts:demandes") + "?statut=toutes").content.decode()
    assert all(d.raison_sociale in html for d in (ancienne, recente, refusee))
    html = staff_client.get(reverse("accounts:demandes") + "?statut=nimporte").content.decode()
    assert "Gamma formation" in html


def test_detail_shows_the_request_and_both_actions(staff_client):
    demande = DemandeCompteFactory(hors_region=True)
    demande.convention.save("convention.pdf", ContentFile(PDF), save=True)
    html = staff_client.get(reverse("accounts:demande", args=[demande.pk])).content.decode()
    assert demande.raison_sociale in html
    assert demande.siret in html
    assert "hors région" in html
    assert reverse("accounts:demande_convention", args=[demande.pk]) in html
    assert reverse("accounts:demande_accepter", args=[demande.pk]) in html
    assert reverse("accounts:demande_refuser", args=[demande.pk]) in html


def test_accept_button(staff_client, django_capture_on_commit_callbacks):
    demande = DemandeCompteFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("accounts:demande_accepter", args=[demande.pk]), follow=True)
    html = response.content.decode()
    assert "Demande acceptée" in html
    assert "Clé d'activation envoyée le" in html
    assert "Envoyer une nouvelle clé d'activation" in html
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.ACCEPTEE
    # A second click (or a second staff member) changes nothing.
    response = staff_client.post(reverse("accounts:demande_accepter", args=[demande.pk]), follow=True)
    assert "Cette demande a déjà été traitée (acceptée)." in response.content.decode()
    assert Organisme.objects.count() == 1


def test_accept_shows_why_it_cannot(staff_client):
    demande = DemandeCompteFactory()
    OrganismeFactory(nda=demande.nda)
    response = staff_client.post(reverse("accounts:demande_accepter", args=[demande.pk]), follow=True)
    assert "Impossible d&#x27;accepter la demande" in response.content.decode()


def test_accept_is_post_only(staff_client):
    demande = DemandeCompteFactory()
    assert staff_client.get(reverse("accounts:demande_accepter", args=[demande.pk])).status_code == 405
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE


def test_refuse_requires_a_reason(staff_client, django_capture_on_commit_callbacks):
    demande = DemandeCompteFactory()
    url = reverse("accounts:demande_refuser", args=[demande.pk])
    response = staff_client.post(url, {"motif": "  "})
    assert response.status_code == 400
    assert "Le motif du refus est obligatoire." in response.content.decode()
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"motif": "SIRET fermé"}, follow=True)
    assert "Demande refusée" in response.content.decode()
    assert "SIRET fermé" in response.content.decode()
    assert staff_client.get(url).status_code == 302


def test_convention_download_is_staff_only(client, staff_user, gestionnaire):
    demande = DemandeCompteFactory(hors_region=True)
    demande.convention.save("convention.pdf", ContentFile(PDF), save=True)
    url = reverse("accounts:demande_convention", args=[demande.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))
    client.force_login(gestionnaire.user)
    assert client.get(url).status_code == 403
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert response["Cache-Control"] == "private, no-store"


def test_convention_download_404_without_file(staff_client):
    demande = DemandeCompteFactory()
    assert staff_client.get(reverse("accounts:demande_convention", args=[demande.pk])).status_code == 404
    assert staff_client.get(reverse("accounts:demande", args=[999999])).status_code == 404


@pytest.mark.parametrize("url_name", ["accounts:demandes", "accounts:activations"])
def test_staff_pages_refuse_of_contacts_and_anonymous(client, gestionnaire, url_name):
    url = reverse(url_name)
    assert client.get(url).status_code == 302
    client.force_login(gestionnaire.user)
    assert client.get(url).status_code == 403


def test_of_contact_cannot_accept_or_refuse(client, gestionnaire):
    demande = DemandeCompteFactory()
    client.force_login(gestionnaire.user)
    assert client.post(reverse("accounts:demande_accepter", args=[demande.pk])).status_code == 403
    assert client.post(reverse("accounts:demande_refuser", args=[demande.pk]), {"motif": "x"}).status_code == 403
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE
