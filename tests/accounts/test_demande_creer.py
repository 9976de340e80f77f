"""The public form "Créer un compte" (accounts:demande_creer)."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ofeli.accounts.models import DemandeCompte
from tests.factories import CommuneFactory, DemandeCompteFactory, OrganismeFactory, siret_valide

pytestmark = pytest.mark.django_db

URL = reverse("accounts:demande_creer")
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def donnees(**overrides):
    data = {
        "raison_sociale": "Formapro Centre",
        "siret": siret_valide(4242),
        "nda": "24450123456",
        "ligne1": "3 place du Martroi",
        "ligne2": "",
        "code_postal": "45000",
        "ville": "Orléans",
        "code_insee": "",
        "civilite": "mme",
        "nom": "Martin",
        "prenom": "Claire",
        "email": "Claire.Martin@Formapro.fr",
        "telephone": "02 38 00 00 00",
        "consentement": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pdf(content=PDF, name="convention.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def post(client, data, capture):
    with capture(execute=True):
        return client.post(URL, data)


def errors_of(response):
    return response.context["form"].errors


def test_page_is_public_and_links_the_data_policy(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Créer un compte OFeli" in html
    assert reverse("core:politique_donnees") in html
    # The consent box is not ticked in advance.
    assert 'name="consentement"' in html
    assert 'name="consentement" checked' not in html
    assert "Pour les organismes situés hors région" not in html  # the guide's sentence, reworded in the page
    assert "hors région Centre-Val de Loire" in html
    assert 'enctype="multipart/form-data"' in html


def test_valid_request_is_recorded_acknowledged_and_nothing_is_activated(client, django_capture_on_commit_callbacks):
    CommuneFactory()
    response = post(client, donnees(), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:demande_envoyee")
    demande = DemandeCompte.objects.get()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE
    assert demande.email == "claire.martin@formapro.fr"
    assert demande.commune_id == "45234"  # found from code postal + ville
    assert demande.code_insee == "45234"
    assert demande.departement == "45"
    assert demande.region == "24"
    assert demande.consentement_at is not None
    assert not demande.convention
    from ofeli.accounts.models import User
    from ofeli.organismes.models import Organisme

    assert not Organisme.objects.exists()
    assert not User.objects.filter(email="claire.martin@formapro.fr").exists()
    recipients = [m.to for m in mail.outbox]
    assert ["claire.martin@formapro.fr"] in recipients
    assert ["offre@alfacentre.org"] in recipients
    accuse = next(m for m in mail.outbox if m.to == ["claire.martin@formapro.fr"])
    assert "bien reçue" in accuse.subject
    assert "clé d'activation" in accuse.body
    confirmation = client.get(response["Location"])
    assert "Votre demande de compte est envoyée" in confirmation.content.decode()


def test_spaces_in_siret_and_nda_are_accepted(client, django_capture_on_commit_callbacks):
    siret = siret_valide(77)
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    response = post(client, donnees(siret=spaced, nda="24 45 01234 56"), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    demande = DemandeCompte.objects.get()
    assert demande.siret == siret
    assert demande.nda == "24450123456"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nda", "2445012345", "exactement 11 chiffres"),
        ("nda", "24A50123456", "exactement 11 chiffres"),
        ("nda", "", "Ce champ est obligatoire."),
        ("siret", "1234567890123", "exactement 14 chiffres"),
        ("siret", "12345678901234", "clé de contrôle est fausse"),
        ("raison_sociale", "", "Ce champ est obligatoire."),
        ("email", "pas-une-adresse", "Saisissez une adresse e-mail valide"),
        ("code_postal", "45A00", "Le code postal doit comporter 5 chiffres."),
        ("code_postal", "450", "au moins 5 caractères"),
        ("code_insee", "4523", "5 caractères"),
        ("civilite", "x", "Sélectionnez un choix valide."),
        ("consentement", None, "Votre accord avec la politique de gestion des données personnelles est nécessaire"),
    ],
)
def test_bad_inputs_get_a_french_message_on_their_field(
    client, django_capture_on_commit_callbacks, field, value, message
):
    response = post(client, donnees(**{field: value}), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert any(message in e for e in errors_of(response)[field]), errors_of(response)
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert f'id="id_{field}-erreurs"' in html
    assert not DemandeCompte.objects.exists()
    assert mail.outbox == []


def test_commune_in_referential_must_match_code_postal(client, django_capture_on_commit_callbacks):
    CommuneFactory()
    response = post(client, donnees(code_insee="45234", code_postal="45100"), django_capture_on_commit_callbacks)
    assert "ne correspond pas à la commune Orléans (45234)" in errors_of(response)["code_postal"][0]
    response = post(client, donnees(code_insee="45234", code_postal="45000"), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert DemandeCompte.objects.get().commune_id == "45234"


def test_commune_absent_from_referential_is_kept_as_typed(client, django_capture_on_commit_callbacks):
    response = post(
        client, donnees(code_insee="37261", code_postal="37000", ville="Tours"), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    demande = DemandeCompte.objects.get()
    assert demande.commune is None
    assert demande.code_insee == "37261"
    assert demande.departement == "37"


# --- Already known to OFeli ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["siret", "nda"])
def test_known_organisme_gets_the_guides_answer(client, django_capture_on_commit_callbacks, field):
    organisme = OrganismeFactory()
    response = post(client, donnees(**{field: getattr(organisme, field)}), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    message = errors_of(response)[field][0]
    assert "Votre organisme est déjà enregistré sur OFeli Centre-Val de Loire" in message
    assert "Réinitialiser mon mot de passe" in message
    html = response.content.decode()
    assert reverse("accounts:password_reset") in html
    assert not DemandeCompte.objects.exists()


@pytest.mark.parametrize("field", ["siret", "nda"])
def test_pending_request_for_the_same_organisme_is_refused(client, django_capture_on_commit_callbacks, field):
    existante = DemandeCompteFactory()
    response = post(client, donnees(**{field: getattr(existante, field)}), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Une demande de compte est déjà en attente pour cet organisme" in errors_of(response)[field][0]
    assert DemandeCompte.objects.count() == 1


def test_refused_request_does_not_block_a_new_one(client, django_capture_on_commit_callbacks):
    ancienne = DemandeCompteFactory(statut=DemandeCompte.Statut.REFUSEE, motif="NDA caduc")
    response = post(client, donnees(siret=ancienne.siret, nda=ancienne.nda), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert DemandeCompte.objects.count() == 2


def test_database_refuses_two_pending_requests_for_one_siret():
    from django.db import IntegrityError, transaction

    existante = DemandeCompteFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DemandeCompteFactory(siret=existante.siret)


# --- Outside the region ---------------------------------------------------------------------------

HORS_REGION = {"code_postal": "75001", "ville": "Paris", "nda": "11750123456"}


def test_outside_region_without_agreement_is_refused_with_the_guides_reason(client, django_capture_on_commit_callbacks):
    response = post(client, donnees(**HORS_REGION), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    message = errors_of(response)["convention"][0]
    assert "hors région Centre-Val de Loire" in message
    assert "lieu de formation en présentiel" in message
    assert not DemandeCompte.objects.exists()


def test_outside_region_with_agreement_is_accepted_and_stored_privately(
    client, django_capture_on_commit_callbacks, private_storage, settings
):
    response = post(client, donnees(**HORS_REGION, convention=pdf()), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    demande = DemandeCompte.objects.get()
    assert demande.departement == "75"
    assert demande.region == ""
    assert demande.convention_nom == "convention.pdf"
    stored = private_storage / demande.convention.name
    assert stored.read_bytes() == PDF
    # Stored under a random name, never under the static files.
    assert "convention.pdf" not in demande.convention.name
    assert not str(stored).startswith(str(settings.STATIC_ROOT))


def test_outside_region_address_found_in_referential(client, django_capture_on_commit_callbacks):
    CommuneFactory(
        code_insee="75101", nom="Paris 1er Arrondissement", departement="75", region="11", codes_postaux=["75001"]
    )
    response = post(client, donnees(**HORS_REGION, code_insee="75101"), django_capture_on_commit_callbacks)
    assert "convention" in errors_of(response)


def test_in_region_address_with_out_of_region_nda_needs_no_agreement(client, django_capture_on_commit_callbacks):
    response = post(client, donnees(nda="11750123456"), django_capture_on_commit_callbacks)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"GIF89a not a pdf", "convention.pdf", "n'est pas un PDF"),
        (b"MZ\x90\x00 an executable", "convention.pdf", "n'est pas un PDF"),
        (b"", "convention.pdf", "Le fichier soumis est vide."),
    ],
)
def test_agreement_is_checked_by_content(client, django_capture_on_commit_callbacks, content, name, message):
    response = post(client, donnees(**HORS_REGION, convention=pdf(content, name)), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert any(message in e for e in errors_of(response)["convention"]), errors_of(response)
    assert not DemandeCompte.objects.exists()


def test_agreement_size_is_limited(client, django_capture_on_commit_callbacks, settings):
    settings.OFELI_MAX_ATTACHMENT_SIZE = 1024 * 1024
    big = PDF + b"0" * (1024 * 1024)
    response = post(client, donnees(**HORS_REGION, convention=pdf(big)), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "dépasse la taille maximale de 1 Mo" in errors_of(response)["convention"][0]


def test_a_pdf_named_otherwise_is_accepted(client, django_capture_on_commit_callbacks):
    response = post(client, donnees(**HORS_REGION, convention=pdf(name="scan")), django_capture_on_commit_callbacks)
    assert response.status_code == 302
