"""The staff home's "Erreurs à traiter": a failed diffusion run, a failed import and broken links show with a link
to their detail until acknowledged or followed by a success."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from ofeli.core.models import AlerteAcquittee
from ofeli.diffusion.models import DiffusionRun, Partenaire
from ofeli.diffusion.models_imports import ImportRun, LienVerifie
from tests.factories import OrganismeFactory, UserFactory

pytestmark = pytest.mark.django_db


def bloc(client, type_):
    page = html.fromstring(client.get(reverse("core:staff_home")).content)
    items = page.xpath(f'//*[@data-alertes="{type_}"]')
    return items[0] if items else None


def run(partenaire, nuit, statut, tentative=1, kind="delta"):
    return DiffusionRun.objects.create(
        partenaire=partenaire,
        nuit=nuit,
        kind=kind,
        statut=statut,
        tentative=tentative,
        started_at=timezone.now() + datetime.timedelta(minutes=tentative),
        erreur="Disque plein" if statut == "echec" else "",
    )


def test_a_failed_run_shows_until_a_later_run_succeeds(client, staff_user):
    p = Partenaire.objects.create(nom="Partenaire A", slug="partenaire-a")
    hier = timezone.localdate() - datetime.timedelta(days=1)
    echec = run(p, hier, "echec")
    client.force_login(staff_user)
    liste = bloc(client, "diffusion")
    assert "Partenaire A" in liste.text_content() and "Disque plein" in liste.text_content()
    assert hier.strftime("%d/%m/%Y") in liste.text_content()
    assert liste.xpath(".//a/@href")[0].startswith(reverse("diffusion:runs"))
    assert liste.xpath(".//button/@value") == [f"diffusion:{echec.pk}"]
    # a successful run of another kind does not clear it; the retry of the same kind does
    run(p, hier, "reussi", tentative=2, kind="complet")
    assert bloc(client, "diffusion") is not None
    run(p, hier, "reussi", tentative=2)
    assert bloc(client, "diffusion") is None


def test_acknowledging_a_failed_run_removes_it_and_says_so(client, staff_user):
    p = Partenaire.objects.create(nom="Partenaire B", slug="partenaire-b")
    echec = run(p, timezone.localdate(), "echec")
    client.force_login(staff_user)
    reponse = client.post(reverse("core:staff_home"), {"acquitter": f"diffusion:{echec.pk}"}, follow=True)
    assert "Alerte acquittée" in reponse.content.decode()
    assert bloc(client, "diffusion") is None
    alerte = AlerteAcquittee.objects.get()
    assert (alerte.type, alerte.objet_id, alerte.acquittee_par) == ("diffusion", echec.pk, staff_user)
    # the run itself is kept
    assert DiffusionRun.objects.filter(pk=echec.pk, statut="echec").exists()
    # a new failure shows again
    run(p, timezone.localdate(), "echec", tentative=2)
    assert bloc(client, "diffusion") is not None


def test_a_failed_import_links_to_its_detail_until_a_later_import_of_that_source_ends(client, staff_user):
    erreur = ImportRun.objects.create(
        source="eos", nom_fichier="eos-mars.xml", sha256="a" * 64, statut="erreur", message="XML mal formé"
    )
    client.force_login(staff_user)
    liste = bloc(client, "import")
    assert liste.xpath(".//a/@href") == [reverse("diffusion:import_detail", args=[erreur.pk])]
    assert "XML mal formé" in liste.text_content()
    ImportRun.objects.create(source="afc", nom_fichier="afc.xml", sha256="b" * 64, statut="termine")
    assert bloc(client, "import") is not None
    ImportRun.objects.create(source="eos", nom_fichier="eos-avril.xml", sha256="c" * 64, statut="termine")
    assert bloc(client, "import") is None


def test_broken_links_show_per_organisme_and_come_back_after_acknowledgement_only_when_new_ones_break(
    client, staff_user
):
    organisme = OrganismeFactory(raison_sociale="Centre AFPA Test")
    il_y_a_deux_jours = timezone.localdate() - datetime.timedelta(days=2)
    LienVerifie.objects.create(
        organisme=organisme, objet="formation", objet_id=1, casse=True, premier_echec=il_y_a_deux_jours
    )
    LienVerifie.objects.create(
        organisme=organisme, objet="session", objet_id=2, casse=True, premier_echec=il_y_a_deux_jours
    )
    client.force_login(staff_user)
    liste = bloc(client, "liens")
    assert "Centre AFPA Test" in liste.text_content() and "2 liens" in liste.text_content()
    assert liste.xpath(".//a/@href") == [reverse("organismes:staff_detail", args=[organisme.pk])]

    client.post(reverse("core:staff_home"), {"acquitter": "liens"})
    assert bloc(client, "liens") is None
    # a link found broken later brings the block back
    LienVerifie.objects.create(
        organisme=organisme,
        objet="formation",
        objet_id=3,
        casse=True,
        premier_echec=timezone.localdate() + datetime.timedelta(days=1),
    )
    assert bloc(client, "liens") is not None
    # repaired links leave it
    LienVerifie.objects.update(casse=False)
    assert bloc(client, "liens") is None


def test_no_error_says_so(client, staff_user):
    client.force_login(staff_user)
    page = html.fromstring(client.get(reverse("core:staff_home")).content)
    (section,) = page.xpath('//section[@id="alertes"]')
    assert "Aucune erreur" in section.text_content()
    assert not section.xpath(".//form")


@pytest.mark.parametrize("cle", ["", "diffusion:abc", "autre:1", "diffusion:999999", "import:"])
def test_a_wrong_acknowledgement_is_a_clear_error(client, staff_user, cle):
    client.force_login(staff_user)
    reponse = client.post(reverse("core:staff_home"), {"acquitter": cle}, follow=True)
    assert reponse.status_code == 200
    page = html.fromstring(reponse.content)
    assert page.xpath('//div[contains(@class, "alert-danger")]')
    assert not AlerteAcquittee.objects.exists()


def test_only_staff_acknowledge(client, db):
    client.force_login(UserFactory())
    assert client.post(reverse("core:staff_home"), {"acquitter": "liens"}).status_code == 403
    assert not AlerteAcquittee.objects.exists()
