import json

import pytest
from django.core import mail
from django.urls import reverse

from ofeli.organismes.models import Contact, DemandeModificationIdentite, Lieu, OrganismeFormateur
from tests.factories import (
    CommuneFactory,
    ContactFactory,
    LieuFactory,
    OrganismeFactory,
    OrganismeFormateurFactory,
    siret_valide,
)

pytestmark = pytest.mark.django_db


def logged(client, contact_or_user):
    client.force_login(getattr(contact_or_user, "user", contact_or_user))
    return client


FICHE = {
    "nom": "AFP Centre",
    "sigle": "AFP",
    "ligne1": "3 place du Martroi",
    "ligne2": "",
    "code_postal": "45000",
    "ville": "Orléans",
    "code_insee": "45234",
    "telephone": "02 38 00 00 00",
    "email": "contact@afp.fr",
    "site_web": "https://afp.fr",
    "description": "Centre de formation",
    "code_uai": "",
}


# --- fiche -----------------------------------------------------------------------------------


def test_a_consulter_contact_sees_the_fiche_without_edit_buttons(client, organisme, lecteur):
    response = logged(client, lecteur).get(reverse("organismes:fiche"))
    assert response.status_code == 200
    html = response.content.decode()
    assert organisme.raison_sociale in html and organisme.siret in html
    assert reverse("organismes:fiche_modifier") not in html
    assert logged(client, lecteur).get(reverse("organismes:fiche_modifier")).status_code == 403


def test_manager_edits_the_fiche(client, organisme, gestionnaire):
    CommuneFactory()
    client = logged(client, gestionnaire)
    assert reverse("organismes:fiche_modifier") in client.get(reverse("organismes:fiche")).content.decode()
    response = client.post(reverse("organismes:fiche_modifier"), FICHE)
    assert response.status_code == 302
    organisme.refresh_from_db()
    assert (organisme.sigle, organisme.departement) == ("AFP", "45")
    assert organisme.history.first().history_user == gestionnaire.user
    assert "Sigle" in client.get(reverse("organismes:fiche")).content.decode()  # in the history table


def test_fiche_form_shows_the_unknown_commune_error_on_its_field(client, organisme, gestionnaire):
    response = logged(client, gestionnaire).post(reverse("organismes:fiche_modifier"), {**FICHE, "code_insee": "45999"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "est inconnue" in html
    assert 'aria-invalid="true"' in html
    organisme.refresh_from_db()
    assert organisme.sigle == ""


def test_identity_request_then_staff_accepts(
    client, organisme, gestionnaire, staff_user, django_capture_on_commit_callbacks
):
    nouveau = siret_valide(8001)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged(client, gestionnaire).post(
            reverse("organismes:identite_demander"),
            {"raison_sociale": "Nouveau nom", "siret": nouveau, "nda": organisme.nda, "justification": "Fusion"},
        )
    assert response.status_code == 302
    organisme.refresh_from_db()
    assert organisme.siret != nouveau
    assert mail.outbox[-1].to == ["offre@alfacentre.org"]
    demande = DemandeModificationIdentite.objects.get()
    assert "en attente" in client.get(reverse("organismes:fiche")).content.decode()

    staff = logged(client, staff_user)
    listing = staff.get(reverse("organismes:staff_demandes")).content.decode()
    assert organisme.raison_sociale in listing
    assert "Nouveau nom" in staff.get(reverse("organismes:staff_demande", args=[demande.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("organismes:staff_demande", args=[demande.pk]), {"decision": "accepter"})
    assert response.status_code == 302
    organisme.refresh_from_db()
    assert (organisme.raison_sociale, organisme.siret) == ("Nouveau nom", nouveau)
    assert mail.outbox[-1].to == [gestionnaire.user.email]


def test_identity_request_form_refuses_a_malformed_siret(client, organisme, gestionnaire):
    response = logged(client, gestionnaire).post(
        reverse("organismes:identite_demander"), {"raison_sociale": "X", "siret": "123"}
    )
    assert response.status_code == 200
    assert "14 chiffres" in response.content.decode()
    assert not DemandeModificationIdentite.objects.exists()


def test_staff_refuses_with_a_reason(client, organisme, gestionnaire, staff_user):
    demande = DemandeModificationIdentite.objects.create(
        organisme=organisme,
        raison_sociale="Y",
        siret=organisme.siret,
        ancienne_raison_sociale=organisme.raison_sociale,
        ancien_siret=organisme.siret,
        demandee_par=gestionnaire.user,
    )
    url = reverse("organismes:staff_demande", args=[demande.pk])
    staff = logged(client, staff_user)
    response = staff.post(url, {"decision": "refuser", "motif_refus": ""})
    assert response.status_code == 200
    assert "obligatoire" in response.content.decode()
    staff.post(url, {"decision": "refuser", "motif_refus": "Kbis manquant"})
    demande.refresh_from_db()
    assert (demande.statut, demande.motif_refus) == ("refusee", "Kbis manquant")
    html = logged(client, gestionnaire).get(reverse("organismes:fiche")).content.decode()
    assert "Kbis manquant" in html


# --- lieux, formateurs -------------------------------------------------------------------------


def test_lieux_list_flags_a_lieu_outside_the_region(client, organisme, lecteur):
    LieuFactory(organisme=organisme, denomination="Site Bourges")
    LieuFactory(organisme=organisme, denomination="Site Paris", hors_region=True)
    html = logged(client, lecteur).get(reverse("organismes:lieux")).content.decode()
    assert html.count("Hors région") == 1
    assert "Site Paris" in html
    assert reverse("organismes:lieu_ajouter") not in html


def test_manager_adds_edits_and_deactivates_a_lieu_with_confirmation(client, organisme, gestionnaire):
    CommuneFactory()
    client = logged(client, gestionnaire)
    data = {
        "denomination": "Annexe",
        "ligne1": "1 rue X",
        "code_postal": "45000",
        "ville": "Orléans",
        "code_insee": "45234",
    }
    assert client.post(reverse("organismes:lieu_ajouter"), data).status_code == 302
    lieu = Lieu.objects.get(organisme=organisme)
    assert lieu.departement == "45"
    bad = client.post(reverse("organismes:lieu_modifier", args=[lieu.pk]), {**data, "code_insee": "00000"})
    assert "est inconnue" in bad.content.decode()
    confirm = client.get(reverse("organismes:lieu_desactiver", args=[lieu.pk]))
    assert "Désactiver le lieu" in confirm.content.decode()
    lieu.refresh_from_db()
    assert lieu.actif
    client.post(reverse("organismes:lieu_desactiver", args=[lieu.pk]))
    lieu.refresh_from_db()
    assert not lieu.actif


def test_manager_adds_a_formateur_and_a_bad_siret_is_refused(client, organisme, gestionnaire):
    client = logged(client, gestionnaire)
    response = client.post(reverse("organismes:formateur_ajouter"), {"siret": "12345678901234", "raison_sociale": "X"})
    assert "clé de contrôle" in response.content.decode()
    connu = OrganismeFactory(raison_sociale="Partenaire")
    client.post(reverse("organismes:formateur_ajouter"), {"siret": connu.siret, "raison_sociale": ""})
    formateur = OrganismeFormateur.objects.get(organisme=organisme)
    assert formateur.organisme_connu == connu
    assert "Partenaire" in client.get(reverse("organismes:formateurs")).content.decode()


def test_another_organismes_lieu_or_formateur_is_a_404(client, organisme, gestionnaire):
    lieu = LieuFactory()
    formateur = OrganismeFormateurFactory()
    client = logged(client, gestionnaire)
    assert client.get(reverse("organismes:lieu_modifier", args=[lieu.pk])).status_code == 404
    assert client.post(reverse("organismes:formateur_desactiver", args=[formateur.pk])).status_code == 404
    formateur.refresh_from_db()
    assert formateur.actif


# --- contacts ----------------------------------------------------------------------------


INVITATION = {
    "civilite": "mme",
    "first_name": "Lina",
    "last_name": "Lecture",
    "email": "lina@exemple.fr",
    "telephone": "",
    "fonction": "Assistante",
    "consentement": "on",
}


def test_invitation_requires_consent_then_creates_a_consulter_contact(
    client, organisme, gestionnaire, django_capture_on_commit_callbacks
):
    client = logged(client, gestionnaire)
    form = client.get(reverse("organismes:contact_inviter")).content.decode()
    assert reverse("core:politique_donnees") in form
    response = client.post(
        reverse("organismes:contact_inviter"), {k: v for k, v in INVITATION.items() if k != "consentement"}
    )
    assert response.status_code == 200
    assert "Cochez cette case" in response.content.decode()
    assert not Contact.objects.filter(user__email="lina@exemple.fr").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("organismes:contact_inviter"), INVITATION)
    assert response.status_code == 302
    contact = Contact.objects.get(user__email="lina@exemple.fr")
    assert (contact.peut_gerer, contact.peut_saisir) == (False, False)
    assert mail.outbox[-1].to == ["lina@exemple.fr"]
    listing = client.get(reverse("organismes:contacts")).content.decode()
    assert "Lecture" in listing and "Consulter" in listing and "Invitation envoyée" in listing


def test_invitation_of_an_email_already_contact_is_refused_on_the_form(client, organisme, gestionnaire, lecteur):
    response = logged(client, gestionnaire).post(
        reverse("organismes:contact_inviter"), {**INVITATION, "email": lecteur.user.email}
    )
    assert response.status_code == 200
    assert "déjà un contact" in response.content.decode()


def test_removing_the_last_manager_is_refused_on_screen(client, organisme, gestionnaire):
    client = logged(client, gestionnaire)
    response = client.post(
        reverse("organismes:contact_modifier", args=[gestionnaire.pk]), {"fonction": "", "peut_saisir": "on"}
    )
    assert response.status_code == 200
    assert "dernier" in response.content.decode()
    response = client.post(reverse("organismes:contact_desactiver", args=[gestionnaire.pk]))
    assert response.status_code == 400
    assert "dernier" in response.content.decode()
    gestionnaire.refresh_from_db()
    assert gestionnaire.peut_gerer and gestionnaire.actif


def test_manager_changes_rights_and_deactivates_after_confirmation(client, organisme, gestionnaire, saisisseur):
    client = logged(client, gestionnaire)
    client.post(reverse("organismes:contact_modifier", args=[saisisseur.pk]), {"fonction": "Formateur"})
    saisisseur.refresh_from_db()
    assert (saisisseur.peut_saisir, saisisseur.fonction) == (False, "Formateur")
    assert (
        "Désactiver le contact"
        in client.get(reverse("organismes:contact_desactiver", args=[saisisseur.pk])).content.decode()
    )
    client.post(reverse("organismes:contact_desactiver", args=[saisisseur.pk]))
    saisisseur.refresh_from_db()
    assert not saisisseur.actif
    # The deactivated contact no longer reaches the organisme.
    assert logged(client, saisisseur).get(reverse("organismes:fiche")).status_code == 403


# --- several organismes --------------------------------------------------------------------


def test_a_contact_of_two_organismes_switches_and_rights_are_per_organisme(client, organisme, gestionnaire):
    autre = OrganismeFactory(raison_sociale="Deuxième OF")
    ContactFactory(user=gestionnaire.user, organisme=autre, lecteur=True)
    client = logged(client, gestionnaire)
    client.post(reverse("organismes:changer"), {"organisme": organisme.pk})
    header = client.get(reverse("organismes:fiche")).content.decode()
    assert "Changer d'organisme" in header and "Deuxième OF" in header
    assert client.get(reverse("organismes:fiche_modifier")).status_code == 200
    response = client.post(reverse("organismes:changer"), {"organisme": autre.pk, "next": reverse("organismes:fiche")})
    assert response.status_code == 302 and response["Location"] == reverse("organismes:fiche")
    assert "Deuxième OF" in client.get(reverse("organismes:fiche")).content.decode()
    assert client.get(reverse("organismes:fiche_modifier")).status_code == 403


def test_switching_to_an_organisme_one_is_not_contact_of_is_a_404(client, gestionnaire):
    etranger = OrganismeFactory()
    client = logged(client, gestionnaire)
    assert client.post(reverse("organismes:changer"), {"organisme": etranger.pk}).status_code == 404
    assert client.post(reverse("organismes:changer"), {"organisme": "abc"}).status_code == 404
    assert client.get(reverse("organismes:changer")).status_code == 405


def test_switch_ignores_an_outside_next_url(client, organisme, gestionnaire):
    response = logged(client, gestionnaire).post(
        reverse("organismes:changer"), {"organisme": organisme.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("core:home")


# --- personal data -----------------------------------------------------------------------


def test_a_contact_sees_and_exports_their_own_data(client, organisme, lecteur):
    client = logged(client, lecteur)
    assert lecteur.user.email in client.get(reverse("organismes:mes_donnees")).content.decode()
    response = client.get(reverse("organismes:mes_donnees_export"))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["compte"]["adresse_email"] == lecteur.user.email
    assert data["contacts"][0]["organisme"] == organisme.raison_sociale


def test_staff_anonymises_a_former_contact_after_confirmation(client, organisme, gestionnaire, lecteur, staff_user):
    staff = logged(client, staff_user)
    url = reverse("organismes:staff_contact_anonymiser", args=[lecteur.pk])
    response = staff.post(url)
    assert response.status_code == 400 and "Désactivez" in response.content.decode()
    lecteur.actif = False
    lecteur.save()
    assert "Anonymiser définitivement" in staff.get(url).content.decode()
    staff.post(url)
    lecteur.user.refresh_from_db()
    assert lecteur.user.anonymised_at is not None
    assert "Anonymisé le" in staff.get(reverse("organismes:staff_detail", args=[organisme.pk])).content.decode()


# --- staff list ------------------------------------------------------------------------------


def test_staff_list_searches_by_name_siret_nda_and_paginates(client, staff_user):
    cible = OrganismeFactory(raison_sociale="Institut Zéphyr", sigle="IZ")
    for _ in range(26):
        OrganismeFactory()
    staff = logged(client, staff_user)
    first = staff.get(reverse("organismes:staff_liste")).content.decode()
    assert "Page 1 sur 2" in first
    assert "Institut Zéphyr" in staff.get(reverse("organismes:staff_liste"), {"q": "zéphyr"}).content.decode()
    by_siret = staff.get(reverse("organismes:staff_liste"), {"q": cible.siret[:9]}).content.decode()
    assert "Institut Zéphyr" in by_siret and "1 organisme" in by_siret
    assert "Institut Zéphyr" in staff.get(reverse("organismes:staff_liste"), {"q": cible.nda}).content.decode()
    assert "Aucun organisme" in staff.get(reverse("organismes:staff_liste"), {"q": "introuvable"}).content.decode()
    assert "Institut Zéphyr" in staff.get(reverse("organismes:staff_detail", args=[cible.pk])).content.decode()


def test_staff_is_sent_to_the_staff_list_from_of_screens(client, staff_user):
    response = logged(client, staff_user).get(reverse("organismes:fiche"))
    assert response.status_code == 302 and response["Location"] == reverse("organismes:staff_liste")


def test_lists_cost_a_bounded_number_of_queries(
    client, organisme, gestionnaire, staff_user, django_assert_max_num_queries
):
    for _ in range(15):
        ContactFactory(organisme=organisme, user__password=None)
        LieuFactory(organisme=organisme)
        OrganismeFactory()
    client = logged(client, gestionnaire)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("organismes:contacts")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("organismes:lieux")).status_code == 200
    staff = logged(client, staff_user)
    with django_assert_max_num_queries(10):
        assert staff.get(reverse("organismes:staff_liste")).status_code == 200


# --- staff manage an OF's contacts ------------------------------------------------------------


def test_staff_adds_the_first_contact_of_a_preloaded_organisme(client, staff_user, django_capture_on_commit_callbacks):
    preloaded = OrganismeFactory(raison_sociale="OF importé sans contact")
    staff = logged(client, staff_user)
    url = reverse("organismes:staff_contact_ajouter", args=[preloaded.pk])
    response = staff.post(url, {"first_name": "Léa", "last_name": "Roux", "email": "lea@of.fr"})
    assert response.status_code == 200 and "consent" in response.content.decode()
    assert not Contact.objects.filter(organisme=preloaded).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            url,
            {"first_name": "Léa", "last_name": "Roux", "email": "lea@of.fr", "peut_gerer": "on", "consentement": "on"},
        )
    assert response.status_code == 302
    contact = Contact.objects.get(organisme=preloaded)
    assert (contact.user.email, contact.peut_gerer) == ("lea@of.fr", True)
    assert [m.to for m in mail.outbox] == [["lea@of.fr"]]
    assert "lea@of.fr" in staff.get(reverse("organismes:staff_detail", args=[preloaded.pk])).content.decode()


def test_staff_change_rights_but_the_last_manager_keeps_managing(client, organisme, gestionnaire, lecteur, staff_user):
    staff = logged(client, staff_user)
    response = staff.post(
        reverse("organismes:staff_contact_modifier", args=[lecteur.pk]), {"peut_saisir": "on", "fonction": "Chargée"}
    )
    assert response.status_code == 302
    lecteur.refresh_from_db()
    assert (lecteur.peut_saisir, lecteur.fonction) == (True, "Chargée")
    response = staff.post(reverse("organismes:staff_contact_modifier", args=[gestionnaire.pk]), {"fonction": ""})
    assert response.status_code == 200 and "dernier" in response.content.decode()
    gestionnaire.refresh_from_db()
    assert gestionnaire.peut_gerer


def test_staff_deactivate_after_confirmation_then_reactivate(client, organisme, gestionnaire, lecteur, staff_user):
    staff = logged(client, staff_user)
    url = reverse("organismes:staff_contact_desactiver", args=[lecteur.pk])
    assert "Désactiver le contact" in staff.get(url).content.decode()
    lecteur.refresh_from_db()
    assert lecteur.actif
    staff.post(url)
    lecteur.refresh_from_db()
    assert not lecteur.actif
    staff.post(reverse("organismes:staff_contact_reactiver", args=[lecteur.pk]))
    lecteur.refresh_from_db()
    assert lecteur.actif


def test_of_contacts_cannot_use_the_staff_contact_screens(client, organisme, gestionnaire, lecteur):
    of = logged(client, gestionnaire)
    assert of.post(reverse("organismes:staff_contact_desactiver", args=[lecteur.pk])).status_code == 403
    lecteur.refresh_from_db()
    assert lecteur.actif
