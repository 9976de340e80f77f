"""The whole access journey in Chromium: request an account, the GIP accepts it, the contact opens
the activation link from the e-mail, chooses a password, logs in and lands on the tableau de bord.
axe-core checks every page of the journey."""

import re

import pytest
from django.core import mail

from ofeli.accounts.models import DemandeCompte
from tests.factories import UserFactory, siret_valide

pytestmark = pytest.mark.django_db(transaction=True)

MOT_DE_PASSE = "Été-2026 à Orléans"


def test_request_accept_activate_login(page, axe_check, screenshot):
    staff = UserFactory(staff=True, email="equipe@gip.example", first_name="Paul", last_name="Durand")

    # 1. The OF asks for an account.
    page.goto("/compte/connexion/")
    page.get_by_role("link", name="Créer un compte").click()
    assert page.get_by_role("heading", name="Créer un compte OFeli").is_visible()
    axe_check(page, context_label="formulaire Créer un compte")
    page.fill("#id_raison_sociale", "Formapro Loire")
    page.fill("#id_siret", siret_valide(9001))
    page.fill("#id_nda", "24450999999")
    page.fill("#id_ligne1", "12 rue Royale")
    page.fill("#id_code_postal", "45000")
    page.fill("#id_ville", "Orléans")
    page.select_option("#id_civilite", "mme")
    page.fill("#id_nom", "Lefèvre")
    page.fill("#id_prenom", "Anne")
    page.fill("#id_email", "anne.lefevre@formapro-loire.fr")
    page.fill("#id_telephone", "02 38 11 22 33")
    # The consent box is not ticked in advance: submitting without it is refused.
    assert not page.is_checked("#id_consentement")
    page.get_by_role("button", name="Envoyer ma demande").click()
    assert page.locator("#id_consentement-erreurs").is_visible()
    axe_check(page, context_label="formulaire Créer un compte avec erreurs")
    page.check("#id_consentement")
    screenshot(page, "demande-formulaire", tour="of-00-demande-de-compte")
    page.get_by_role("button", name="Envoyer ma demande").click()
    assert page.get_by_role("heading", name="Votre demande de compte est envoyée").is_visible()
    screenshot(page, "demande-envoyee")
    axe_check(page, context_label="confirmation de la demande")
    assert DemandeCompte.objects.get().statut == DemandeCompte.Statut.EN_ATTENTE

    # 2. The GIP's staff logs in and accepts it.
    page.goto("/compte/connexion/")
    axe_check(page, context_label="page de connexion")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", "Mot-de-passe-1")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("heading", name="Accueil de l'équipe offre").is_visible()
    page.get_by_role("link", name="Demandes de compte").first.click()
    assert page.get_by_role("heading", name="Demandes de compte").is_visible()
    axe_check(page, context_label="liste des demandes")
    page.get_by_role("link", name="Formapro Loire").click()
    assert page.get_by_role("heading", name="Demande de compte : Formapro Loire").is_visible()
    axe_check(page, context_label="détail d'une demande")
    screenshot(page, "demande-detail", tour="equipe-01-demande-de-compte")
    page.get_by_role("button", name="Accepter la demande").click()
    assert page.get_by_text("Demande acceptée").is_visible()
    screenshot(page, "demande-acceptee")
    axe_check(page, context_label="demande acceptée")
    page.get_by_role("button", name="Se déconnecter").click()
    assert page.get_by_role("heading", name="Se connecter à OFeli").is_visible()

    # 3. The activation e-mail (the live server runs in this process).
    message = next(m for m in mail.outbox if m.to == ["anne.lefevre@formapro-loire.fr"] and "activation" in m.subject)
    path = re.search(r"https?://[^/\s]+(/compte/activation/\S+/)", message.body).group(1)
    page.goto(path)
    assert page.get_by_role("heading", name="Activer mon compte").is_visible()
    axe_check(page, context_label="activation du compte")

    # The rules are shown as the user types.
    page.fill("#id_new_password1", "été")
    assert "text-danger" in page.locator('#regles-mdp li[data-rule="length"]').get_attribute("class")
    assert "text-danger" in page.locator('#regles-mdp li[data-rule="upper"]').get_attribute("class")
    page.fill("#id_new_password1", MOT_DE_PASSE)
    for rule in ["length", "upper", "special", "lower_or_digit"]:
        assert "text-success" in page.locator(f'#regles-mdp li[data-rule="{rule}"]').get_attribute("class")
    assert "(respectée)" in page.locator('#regles-mdp li[data-rule="upper"]').inner_text()
    axe_check(page, context_label="activation, règles affichées")
    page.fill("#id_new_password2", MOT_DE_PASSE)
    page.get_by_role("button", name="Activer mon compte").click()
    assert page.get_by_text("Votre compte est activé").is_visible()
    axe_check(page, context_label="connexion après activation")

    # 4. Log in and land on the tableau de bord.
    page.fill("#id_username", "Anne.Lefevre@formapro-loire.fr")
    page.fill("#id_password", MOT_DE_PASSE)
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("heading", name="Tableau de bord").first.is_visible()
    assert page.url.endswith("/tableau-de-bord/")
    screenshot(page, "tableau-de-bord", tour="of-01-tableau-de-bord")
    axe_check(page, context_label="tableau de bord")
