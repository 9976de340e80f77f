import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from ofeli.accounts.models import User
from ofeli.organismes import services
from ofeli.organismes.models import Contact, DemandeModificationIdentite, Organisme
from tests.factories import (
    CommuneFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    OrganismeFormateurFactory,
    siret_valide,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def orleans(db):
    return CommuneFactory()


@pytest.fixture
def paris(db):
    return CommuneFactory(code_insee="75056", nom="Paris", departement="75", region="11", codes_postaux=["75001"])


def adresse(**extra):
    return {"ligne1": "3 place du Martroi", "code_postal": "45000", "ville": "Orléans", "code_insee": "45234", **extra}


def errors_of(exc_info):
    return exc_info.value.message_dict


# --- fiche organisme -------------------------------------------------------------------------


def test_organisme_modifier_applies_at_once_derives_departement_and_records_who(organisme, gestionnaire, orleans):
    services.organisme_modifier(
        organisme=organisme,
        par=gestionnaire.user,
        donnees=adresse(sigle="AFP", telephone="02 38 00 00 00", site_web="https://exemple.fr", code_uai="0451234a"),
    )
    organisme.refresh_from_db()
    assert organisme.sigle == "AFP"
    assert organisme.commune == orleans
    assert (organisme.departement, organisme.region) == ("45", "24")
    assert organisme.code_uai == "0451234A"
    last = organisme.history.first()
    assert last.history_user == gestionnaire.user
    assert last.sigle == "AFP"


def test_organisme_modifier_refuses_an_unknown_commune_in_french(organisme, gestionnaire, orleans):
    with pytest.raises(ValidationError) as exc:
        services.organisme_modifier(organisme=organisme, par=gestionnaire.user, donnees=adresse(code_insee="99999"))
    assert "La commune de code INSEE « 99999 » est inconnue" in errors_of(exc)["code_insee"][0]
    organisme.refresh_from_db()
    assert organisme.commune is None


@pytest.mark.parametrize(
    ("champ", "valeur", "message"),
    [
        ("code_insee", "4523", "n'est pas un code INSEE"),
        ("code_postal", "450", "5 chiffres"),
        ("telephone", "abc", "téléphone"),
        ("email", "pas-une-adresse", "e-mail"),
        ("site_web", "javascript:alert(1)", "site internet"),
        ("code_uai", "12345", "code UAI"),
        ("ligne1", "", "obligatoire"),
    ],
)
def test_organisme_modifier_bad_inputs(organisme, gestionnaire, orleans, champ, valeur, message):
    with pytest.raises(ValidationError) as exc:
        services.organisme_modifier(organisme=organisme, par=gestionnaire.user, donnees=adresse(**{champ: valeur}))
    assert message in errors_of(exc)[champ][0]


# --- identity change requests ------------------------------------------------------------------


def test_identity_change_is_a_request_the_gip_accepts(organisme, gestionnaire, staff_user):
    ancien = organisme.siret
    nouveau = siret_valide(9001)
    demande = services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="Nouveau nom", siret=nouveau, nda=organisme.nda
    )
    organisme.refresh_from_db()
    assert (organisme.raison_sociale, organisme.siret) != ("Nouveau nom", nouveau)
    services.demande_identite_accepter(demande=demande, par=staff_user)
    organisme.refresh_from_db()
    assert (organisme.raison_sociale, organisme.siret) == ("Nouveau nom", nouveau)
    demande.refresh_from_db()
    assert demande.statut == DemandeModificationIdentite.Statut.ACCEPTEE
    assert demande.ancien_siret == ancien
    assert demande.traitee_par == staff_user
    assert organisme.history.first().history_user == staff_user
    assert "acceptée" in organisme.history.first().history_change_reason


def test_identity_request_refused_needs_a_reason_and_changes_nothing(organisme, gestionnaire, staff_user):
    demande = services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="Autre nom", siret=organisme.siret
    )
    with pytest.raises(ValidationError) as exc:
        services.demande_identite_refuser(demande=demande, par=staff_user, motif="  ")
    assert "motif" in errors_of(exc)["motif_refus"][0]
    services.demande_identite_refuser(demande=demande, par=staff_user, motif="Kbis non fourni")
    demande.refresh_from_db()
    organisme.refresh_from_db()
    assert demande.statut == DemandeModificationIdentite.Statut.REFUSEE
    assert demande.motif_refus == "Kbis non fourni"
    assert organisme.raison_sociale != "Autre nom"
    with pytest.raises(ValidationError, match="déjà été traitée"):
        services.demande_identite_accepter(demande=demande, par=staff_user)


@pytest.mark.parametrize(
    ("siret", "nda", "champ", "message"),
    [
        ("1234", "", "siret", "14 chiffres"),
        ("12345678901234", "", "siret", "clé de contrôle"),
        (None, "12AB", "nda", "11 chiffres"),
    ],
)
def test_identity_request_refuses_malformed_identifiers(organisme, gestionnaire, siret, nda, champ, message):
    with pytest.raises(ValidationError) as exc:
        services.demande_identite_creer(
            organisme=organisme, par=gestionnaire.user, raison_sociale="X", siret=siret or organisme.siret, nda=nda
        )
    assert message in errors_of(exc)[champ][0]
    assert not DemandeModificationIdentite.objects.exists()


def test_identity_request_refuses_a_siret_of_another_organisme_and_a_second_pending_request(organisme, gestionnaire):
    autre = OrganismeFactory()
    with pytest.raises(ValidationError) as exc:
        services.demande_identite_creer(
            organisme=organisme, par=gestionnaire.user, raison_sociale="X", siret=autre.siret
        )
    assert "autre organisme" in errors_of(exc)["siret"][0]
    with pytest.raises(ValidationError, match="ni la raison sociale"):
        services.demande_identite_creer(
            organisme=organisme,
            par=gestionnaire.user,
            raison_sociale=organisme.raison_sociale,
            siret=organisme.siret,
            nda=organisme.nda,
        )
    services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="Y", siret=organisme.siret
    )
    with pytest.raises(ValidationError, match="déjà en attente"):
        services.demande_identite_creer(
            organisme=organisme, par=gestionnaire.user, raison_sociale="Z", siret=organisme.siret
        )


def test_accepting_checks_again_that_the_siret_is_still_free(organisme, gestionnaire, staff_user):
    nouveau = siret_valide(9002)
    demande = services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="X", siret=nouveau
    )
    OrganismeFactory(siret=nouveau)
    with pytest.raises(ValidationError):
        services.demande_identite_accepter(demande=demande, par=staff_user)
    demande.refresh_from_db()
    assert demande.statut == DemandeModificationIdentite.Statut.EN_ATTENTE


# --- lieux and formateurs ------------------------------------------------------------------


def test_lieu_creer_with_commune_and_hors_region_flag(organisme, gestionnaire, orleans, paris):
    lieu = services.lieu_creer(organisme=organisme, par=gestionnaire.user, donnees=adresse(denomination="Site"))
    assert (lieu.departement, lieu.hors_region) == ("45", False)
    loin = services.lieu_creer(
        organisme=organisme,
        par=gestionnaire.user,
        donnees={"ligne1": "1 rue de Rivoli", "code_postal": "75001", "ville": "Paris", "code_insee": "75056"},
    )
    assert (loin.departement, loin.hors_region) == ("75", True)
    assert loin.history.first().history_user == gestionnaire.user


def test_lieu_bad_inputs(organisme, gestionnaire, orleans):
    with pytest.raises(ValidationError) as exc:
        services.lieu_creer(
            organisme=organisme, par=gestionnaire.user, donnees=adresse(code_insee="00000", siret="123")
        )
    errors = errors_of(exc)
    assert "inconnue" in errors["code_insee"][0]
    assert "14 chiffres" in errors["siret"][0]
    assert not organisme.lieux.exists()


def test_lieu_desactiver_then_reactiver_keeps_the_row(organisme, gestionnaire, orleans):
    lieu = LieuFactory(organisme=organisme)
    services.lieu_desactiver(lieu=lieu, par=gestionnaire.user)
    lieu.refresh_from_db()
    assert not lieu.actif
    services.lieu_reactiver(lieu=lieu, par=gestionnaire.user)
    lieu.refresh_from_db()
    assert lieu.actif
    assert lieu.history.count() == 3


def test_formateur_links_a_known_organisme_and_takes_its_name(organisme, gestionnaire):
    connu = OrganismeFactory(raison_sociale="Partenaire connu")
    formateur = services.formateur_creer(organisme=organisme, par=gestionnaire.user, siret=connu.siret)
    assert formateur.organisme_connu == connu
    assert formateur.raison_sociale == "Partenaire connu"
    inconnu = services.formateur_creer(
        organisme=organisme, par=gestionnaire.user, siret=siret_valide(7001), raison_sociale="Inconnu SARL"
    )
    assert inconnu.organisme_connu is None


@pytest.mark.parametrize(
    ("siret", "raison_sociale", "champ", "message"),
    [
        ("123 456", "X", "siret", "14 chiffres"),
        ("12345678901234", "X", "siret", "clé de contrôle"),
        (siret_valide(7002), "", "raison_sociale", "obligatoire"),
    ],
)
def test_formateur_bad_inputs(organisme, gestionnaire, siret, raison_sociale, champ, message):
    with pytest.raises(ValidationError) as exc:
        services.formateur_creer(organisme=organisme, par=gestionnaire.user, siret=siret, raison_sociale=raison_sociale)
    assert message in errors_of(exc)[champ][0]


def test_formateur_refuses_itself_and_duplicates(organisme, gestionnaire):
    with pytest.raises(ValidationError, match="propre organisme"):
        services.formateur_creer(organisme=organisme, par=gestionnaire.user, siret=organisme.siret, raison_sociale="X")
    existant = OrganismeFormateurFactory(organisme=organisme)
    with pytest.raises(ValidationError, match="déjà dans votre liste"):
        services.formateur_creer(organisme=organisme, par=gestionnaire.user, siret=existant.siret, raison_sociale="X")


# --- contacts ------------------------------------------------------------------------------


def inviter(organisme, par, **extra):
    data = {
        "email": "Nouvelle.Personne@Exemple.fr",
        "first_name": "Nina",
        "last_name": "Nouvelle",
        "peut_saisir": True,
        "consentement": True,
        **extra,
    }
    return services.contact_inviter(organisme=organisme, par=par, **data)


def test_contact_inviter_creates_user_without_password_and_sends_the_activation_key(
    organisme, gestionnaire, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact = inviter(organisme, gestionnaire.user)
    user = contact.user
    assert user.email == "nouvelle.personne@exemple.fr"
    assert not user.has_usable_password()
    assert (contact.peut_saisir, contact.peut_gerer, contact.actif) == (True, False, True)
    assert contact.consentement_at is not None
    assert contact.history.first().history_user == gestionnaire.user
    assert [m.to for m in mail.outbox] == [["nouvelle.personne@exemple.fr"]]
    assert "/compte/" in mail.outbox[0].body


def test_contact_inviter_requires_consent(organisme, gestionnaire):
    with pytest.raises(ValidationError) as exc:
        inviter(organisme, gestionnaire.user, consentement=False)
    assert "politique de gestion des données personnelles" in errors_of(exc)["consentement"][0]
    assert not User.objects.filter(email="nouvelle.personne@exemple.fr").exists()


def test_contact_inviter_refuses_an_email_already_contact_of_this_organisme(organisme, gestionnaire, lecteur):
    with pytest.raises(ValidationError) as exc:
        inviter(organisme, gestionnaire.user, email=lecteur.user.email.upper())
    assert "déjà un contact" in errors_of(exc)["email"][0]
    lecteur.actif = False
    lecteur.save()
    with pytest.raises(ValidationError, match="réactivez"):
        inviter(organisme, gestionnaire.user, email=lecteur.user.email)


@pytest.mark.parametrize(
    ("champ", "valeur", "message"),
    [
        ("email", "pas-une-adresse", "n'est pas valide"),
        ("last_name", "", "obligatoire"),
        ("telephone", "x", "téléphone"),
    ],
)
def test_contact_inviter_bad_inputs(organisme, gestionnaire, champ, valeur, message):
    with pytest.raises(ValidationError) as exc:
        inviter(organisme, gestionnaire.user, **{champ: valeur})
    assert message in errors_of(exc)[champ][0]


def test_a_user_of_another_organisme_becomes_a_contact_of_this_one_too(
    organisme, gestionnaire, django_capture_on_commit_callbacks
):
    ailleurs = ContactFactory(organisme=OrganismeFactory(), gestionnaire=True)
    with django_capture_on_commit_callbacks(execute=True):
        contact = inviter(organisme, gestionnaire.user, email=ailleurs.user.email, peut_saisir=False)
    assert contact.user == ailleurs.user
    assert Contact.objects.filter(user=ailleurs.user).count() == 2
    # Rights are per organisme: still a manager over there, a reader here.
    assert (contact.peut_gerer, contact.peut_saisir) == (False, False)
    assert ailleurs.user.has_usable_password()
    assert len(mail.outbox) == 1 and "vous êtes contact de" in mail.outbox[0].subject


def test_contact_inviter_refuses_a_staff_member(organisme, gestionnaire, staff_user):
    with pytest.raises(ValidationError, match="équipe offre"):
        inviter(organisme, gestionnaire.user, email=staff_user.email)


def test_the_last_manager_cannot_lose_the_right_nor_be_deactivated(organisme, gestionnaire):
    with pytest.raises(ValidationError) as exc:
        services.contact_modifier_droits(
            contact=gestionnaire, par=gestionnaire.user, peut_gerer=False, peut_saisir=True
        )
    assert "dernier" in errors_of(exc)["peut_gerer"][0]
    with pytest.raises(ValidationError, match="dernier"):
        services.contact_desactiver(contact=gestionnaire, par=gestionnaire.user)
    gestionnaire.refresh_from_db()
    assert gestionnaire.peut_gerer and gestionnaire.actif


def test_a_deactivated_or_inactive_manager_does_not_count(organisme, gestionnaire):
    autre = ContactFactory(organisme=organisme, gestionnaire=True, actif=False)
    with pytest.raises(ValidationError):
        services.contact_desactiver(contact=gestionnaire, par=gestionnaire.user)
    autre.actif = True
    autre.save()
    autre.user.is_active = False
    autre.user.save()
    with pytest.raises(ValidationError):
        services.contact_desactiver(contact=gestionnaire, par=gestionnaire.user)


def test_with_two_managers_one_may_step_down_and_be_deactivated(organisme, gestionnaire):
    second = ContactFactory(organisme=organisme, gestionnaire=True)
    services.contact_modifier_droits(
        contact=second, par=gestionnaire.user, peut_gerer=False, peut_saisir=False, fonction="Assistante"
    )
    second.refresh_from_db()
    assert (second.peut_gerer, second.peut_saisir, second.fonction) == (False, False, "Assistante")
    services.contact_desactiver(contact=second, par=gestionnaire.user)
    second.refresh_from_db()
    assert not second.actif
    assert Contact.objects.filter(pk=second.pk).exists()
    assert second.history.first().history_user == gestionnaire.user
    services.contact_reactiver(contact=second, par=gestionnaire.user)
    second.refresh_from_db()
    assert second.actif


# --- personal data -----------------------------------------------------------------------


def test_anonymise_a_former_contact_keeps_the_offer(organisme, gestionnaire, lecteur, staff_user):
    formation = FormationFactory(organisme=organisme, created_by=lecteur.user)
    user = lecteur.user
    ancien_email = user.email
    with pytest.raises(ValidationError, match="Désactivez d'abord"):
        services.contact_anonymiser(contact=lecteur, par=staff_user)
    services.contact_desactiver(contact=lecteur, par=gestionnaire.user)
    services.contact_anonymiser(contact=lecteur, par=staff_user)
    user.refresh_from_db()
    assert user.email != ancien_email and user.email.endswith("@anonyme.invalid")
    assert (user.first_name, user.telephone, user.is_active) == ("", "", False)
    assert user.anonymised_at is not None
    assert not user.has_usable_password()
    formation.refresh_from_db()
    assert formation.created_by == user
    # The audit trail records the anonymisation and no longer holds the former e-mail.
    assert user.history.first().history_user == staff_user
    assert user.history.first().history_change_reason.startswith("Anonymisation")
    assert not user.history.filter(email=ancien_email).exists()
    with pytest.raises(ValidationError, match="déjà anonymisé"):
        services.contact_anonymiser(contact=lecteur, par=staff_user)


def test_anonymising_also_removes_the_person_from_their_account_requests(organisme, gestionnaire, lecteur, staff_user):
    from ofeli.accounts.models import DemandeCompte
    from tests.factories import DemandeCompteFactory

    ancien_email = lecteur.user.email
    demande = DemandeCompteFactory(email=ancien_email.upper(), nom="Durand", prenom="Alice", telephone="0238000000")
    autre = DemandeCompteFactory(email="quelqu.un@example.org", nom="Martin")
    services.contact_desactiver(contact=lecteur, par=gestionnaire.user)
    services.contact_anonymiser(contact=lecteur, par=staff_user)
    demande.refresh_from_db()
    assert (demande.nom, demande.prenom, demande.telephone) == ("Contact anonymisé", "", "")
    assert demande.email.endswith("@anonyme.invalid")
    assert demande.raison_sociale  # the organisme's data stay
    assert not DemandeCompte.history.filter(nom="Durand").exists()
    assert not DemandeCompte.history.filter(email__iexact=ancien_email).exists()
    autre.refresh_from_db()
    assert autre.nom == "Martin"


def test_only_staff_anonymises(organisme, gestionnaire, lecteur):
    lecteur.actif = False
    lecteur.save()
    with pytest.raises(ValidationError, match="équipe offre"):
        services.contact_anonymiser(contact=lecteur, par=gestionnaire.user)


def test_mes_donnees_lists_account_and_memberships(organisme, gestionnaire):
    ContactFactory(user=gestionnaire.user, organisme=OrganismeFactory(raison_sociale="Second OF"), peut_saisir=False)
    data = services.mes_donnees(user=gestionnaire.user)
    assert data["compte"]["adresse_email"] == gestionnaire.user.email
    assert {c["organisme"] for c in data["contacts"]} == {organisme.raison_sociale, "Second OF"}
    assert Organisme.objects.count() == 2


def test_inviting_someone_who_never_activated_sends_a_new_activation_key(
    organisme, gestionnaire, django_capture_on_commit_callbacks
):
    ailleurs = ContactFactory(organisme=OrganismeFactory(), user__password=None)
    assert not ailleurs.user.has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):
        inviter(organisme, gestionnaire.user, email=ailleurs.user.email)
    assert len(mail.outbox) == 1
    assert "/compte/activation/" in mail.outbox[0].body


def test_an_anonymised_contact_cannot_be_reactivated(organisme, gestionnaire, lecteur, staff_user):
    services.contact_desactiver(contact=lecteur, par=gestionnaire.user)
    services.contact_anonymiser(contact=lecteur, par=staff_user)
    with pytest.raises(ValidationError, match="anonymisé"):
        services.contact_reactiver(contact=lecteur, par=gestionnaire.user)


def test_identity_requests_keep_their_history(organisme, gestionnaire, staff_user):
    demande = services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="Nom 2", siret=organisme.siret
    )
    services.demande_identite_refuser(demande=demande, par=staff_user, motif="Non")
    assert [h.history_user for h in demande.history.order_by("history_date")] == [gestionnaire.user, staff_user]
    # A new request is possible once the previous one is decided.
    services.demande_identite_creer(
        organisme=organisme, par=gestionnaire.user, raison_sociale="Nom 3", siret=organisme.siret
    )
    assert organisme.demandes_identite.count() == 2


def test_commune_is_found_from_the_code_postal_when_the_code_insee_is_empty(organisme, gestionnaire, orleans):
    CommuneFactory(code_insee="45208", nom="Ormes", departement="45", region="24", codes_postaux=["45140"])
    CommuneFactory(
        code_insee="45285", nom="Saint-Jean-de-la-Ruelle", departement="45", region="24", codes_postaux=["45140"]
    )
    services.organisme_modifier(organisme=organisme, par=gestionnaire.user, donnees=adresse(code_insee=""))
    organisme.refresh_from_db()
    assert organisme.code_insee == "45234"
    lieu = services.lieu_creer(
        organisme=organisme,
        par=gestionnaire.user,
        donnees=adresse(code_insee="", code_postal="45140", ville="SAINT JEAN DE LA RUELLE"),
    )
    assert lieu.code_insee == "45285"
    with pytest.raises(ValidationError) as exc:
        services.lieu_creer(
            organisme=organisme, par=gestionnaire.user, donnees=adresse(code_insee="", code_postal="45140", ville="X")
        )
    assert (
        "Plusieurs communes" in errors_of(exc)["code_insee"][0] and "Ormes (45208)" in errors_of(exc)["code_insee"][0]
    )
    with pytest.raises(ValidationError) as exc:
        services.lieu_creer(
            organisme=organisme, par=gestionnaire.user, donnees=adresse(code_insee="", code_postal="45999")
        )
    assert "Aucune commune" in errors_of(exc)["code_insee"][0]
