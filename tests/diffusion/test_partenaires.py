"""Partners are data: seeded from the guide's list, managed by staff, tokens created and revoked on screen."""

import pytest
from django.urls import reverse

from ofeli.core.region import current_region
from ofeli.diffusion.models import DiffusionRun, JetonPartenaire, Partenaire
from ofeli.diffusion.partenaires import empreinte, partenaire_creer
from ofeli.offre.models import Dispositif
from tests.diffusion.test_feeds import NUIT, formation_validee
from tests.factories import ContactFactory, OrganismeFactory


def test_the_guides_partners_are_seeded_with_the_regions_site_name(db):
    slugs = set(Partenaire.objects.values_list("slug", flat=True))
    assert {"site-regional", "base-nationale-carif-oref", "france-travail", "cleor"} <= slugs
    assert Partenaire.objects.get(slug="site-regional").nom == current_region().site_public
    france_travail = Partenaire.objects.get(slug="france-travail")
    assert france_travail.perimetre == Partenaire.Perimetre.DISPOSITIFS
    assert (
        Dispositif.AIF in france_travail.dispositifs
        and Dispositif.ENTREPRISE_PARTICULIER not in france_travail.dispositifs
    )


def test_a_partner_of_dispositifs_needs_at_least_one(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        partenaire_creer(nom="I-milo", slug="i-milo", type="autre", perimetre="dispositifs", dispositifs=[])
    assert "dispositifs" in exc.value.message_dict


def test_staff_create_a_partner_and_a_token_seen_once_then_revoke_it(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("diffusion:partenaires"),
        {"nom": "I-milo", "slug": "i-milo", "type": "autre", "perimetre": "dispositifs", "dispositifs": ["aif"],
         "exclure_terminees": "on", "actif": "on"},
    )  # fmt: skip
    partenaire = Partenaire.objects.get(slug="i-milo")
    assert response.status_code == 302 and partenaire.dispositifs == ["aif"]

    page = client.post(
        reverse("diffusion:partenaire", args=[partenaire.pk]), {"action": "jeton_creer", "libelle": "prod"}
    )
    jeton = JetonPartenaire.objects.get(partenaire=partenaire)
    clair = page.context["jeton_clair"]
    assert clair.encode() in page.content and jeton.empreinte == empreinte(clair)
    again = client.get(reverse("diffusion:partenaire", args=[partenaire.pk]))
    assert clair.encode() not in again.content

    client.post(reverse("diffusion:partenaire", args=[partenaire.pk]), {"action": "jeton_revoquer", "jeton": jeton.pk})
    jeton.refresh_from_db()
    assert jeton.revoked_at is not None and jeton.revoked_by == staff_user


def test_the_runs_screen_shows_failed_runs_and_launches_a_run(
    client, staff_user, organisme, django_capture_on_commit_callbacks
):
    formation_validee(organisme, staff_user)
    site = Partenaire.objects.get(slug="site-regional")
    DiffusionRun.objects.create(
        partenaire=site,
        nuit=NUIT.replace(year=NUIT.year - 1),
        kind="delta",
        statut="echec",
        started_at=site.created_at,
        erreur="OSError : disque plein",
    )
    client.force_login(staff_user)
    page = client.get(reverse("diffusion:runs"))
    assert "disque plein" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("diffusion:runs"))
    assert response.status_code == 302
    actifs = Partenaire.objects.filter(actif=True).count()
    assert DiffusionRun.objects.filter(nuit=NUIT, statut="reussi").count() == 2 * actifs
    run = DiffusionRun.objects.get(nuit=NUIT, partenaire=site, kind="complet")
    assert client.get(reverse("diffusion:run_fichier", args=[run.pk])).status_code == 200


def test_staff_screens_refuse_an_of_contact(client, gestionnaire):
    client.force_login(gestionnaire.user)
    for name in ("diffusion:runs", "diffusion:partenaires"):
        assert client.get(reverse(name)).status_code == 403


def test_the_session_page_answers_where_the_session_stands(client, organisme, gestionnaire, staff_user):
    formation = formation_validee(organisme, staff_user, dispositif=Dispositif.AIF)
    session = formation.actions.get().sessions.get()
    from ofeli.diffusion.feeds import diffuser_partenaire

    diffuser_partenaire(partenaire=Partenaire.objects.get(slug="france-travail"), nuit=NUIT)
    client.force_login(gestionnaire.user)
    page = client.get(reverse("diffusion:session_statut", args=[session.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Transmise dans le flux de la nuit du {NUIT:%d/%m/%Y}" in text
    assert "72 heures" in text and "correspondant Kairos" in text

    autre = ContactFactory(organisme=OrganismeFactory(), gestionnaire=True)
    client.force_login(autre.user)
    assert client.get(reverse("diffusion:session_statut", args=[session.pk])).status_code == 404
