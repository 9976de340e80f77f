"""The pictures in Chromium: the staff home (errors to deal with, offer, validation delay, diffusion runs) and an
OF's tableau de bord (its sessions across the year) pass axe, show their SVG, open their table of figures, and the
staff acknowledge a failed run without JavaScript help."""

import datetime

import pytest
from django.utils import timezone

from ofeli.diffusion.models import DiffusionRun, Partenaire
from ofeli.offre.models import Dispositif
from ofeli.validation.models import Publication
from tests.factories import ActionFactory, ContactFactory, FormationFactory, LieuFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_home_and_of_dashboard_pictures(connecter, axe_check, screenshot):
    contact = ContactFactory(gestionnaire=True)
    formation = FormationFactory(organisme=contact.organisme, validee=True)
    action = ActionFactory(formation=formation, dispositif=Dispositif.AIF)
    action.lieux.add(LieuFactory(organisme=contact.organisme))
    annee = timezone.localdate().year
    for mois in (1, 3, 3, 9):
        SessionFactory(action=action, debut=datetime.date(annee, mois, 5), fin=datetime.date(annee, mois, 25))
    Publication.objects.create(
        formation=formation, organisme=formation.organisme, numero=1, data={}, validated_at=timezone.now()
    )
    partenaire = Partenaire.objects.create(nom="Partenaire navigateur", slug="partenaire-navigateur")
    DiffusionRun.objects.create(
        partenaire=partenaire,
        nuit=timezone.localdate(),
        kind="delta",
        statut="echec",
        started_at=timezone.now(),
        erreur="Délai dépassé",
    )

    staff = connecter(UserFactory(staff=True))
    staff.goto("/equipe-offre/")
    assert staff.locator("figure[data-graphique='departements'] svg").is_visible()
    staff.get_by_text("Voir les chiffres de ce graphique").first.click()
    assert staff.locator("figure[data-graphique='departements'] table").is_visible()
    axe_check(staff, context_label="accueil de l'équipe offre")
    screenshot(staff, "accueil-equipe-offre")
    staff.get_by_role("button", name="Acquitter l'échec du flux Partenaire navigateur").click()
    staff.wait_for_load_state("load")
    assert staff.get_by_text("Alerte acquittée").is_visible()
    assert staff.locator("[data-alertes='diffusion']").count() == 0

    of = connecter(contact.user)
    of.goto("/tableau-de-bord/")
    graphique = of.locator("figure[data-graphique='sessions']")
    assert graphique.locator("svg").is_visible()
    assert graphique.locator("svg title").first.text_content().startswith("Vos sessions")
    axe_check(of, context_label="tableau de bord avec le graphique des sessions")
    screenshot(of, "tableau-de-bord-graphique")
