"""Every main authenticated page, as an OF contact and as the équipe offre, with demo-like data: a breadcrumb,
a <title> "<page> — OFeli …", one <h1>, the skip link to the content, and no date printed in ISO form."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from ofeli.diffusion.models import DiffusionRun, Partenaire
from ofeli.diffusion.models_imports import ImportRun
from ofeli.messagerie import services as messagerie
from ofeli.offre.models import Dispositif, Etat
from ofeli.validation.models import Publication, Transition
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture
def monde(gestionnaire, staff_user):
    """An OF with places, contacts, a validated formation (published, with sessions), a submitted one, a draft, a
    thread with the équipe offre; a partner with runs and an import, as the demo data has."""
    organisme = gestionnaire.organisme
    autre = ContactFactory(organisme=organisme)
    lieu = LieuFactory(organisme=organisme)
    validee = FormationFactory(organisme=organisme, validee=True, url="https://exemple.fr/soudure")
    action = ActionFactory(formation=validee, dispositif=Dispositif.AIF)
    action.lieux.add(lieu)
    session = SessionFactory(action=action)
    SessionFactory(action=action, debut=timezone.localdate() - datetime.timedelta(days=60))
    Publication.objects.create(formation=validee, organisme=organisme, numero=1, data={}, validated_at=timezone.now())
    soumise = FormationFactory(organisme=organisme, soumise=True)
    SessionFactory(action=ActionFactory(formation=soumise))
    Transition.objects.create(
        formation=soumise, objet="formation", etat_avant=Etat.BROUILLON, etat_apres=Etat.EN_ATTENTE, acteur="of"
    )
    brouillon = FormationFactory(organisme=organisme)
    fil = messagerie.fil_creer(
        organisme=organisme, auteur=gestionnaire.user, sujet="Question sur ma formation", texte="Bonjour"
    )
    partenaire = Partenaire.objects.create(nom="Site régional test", slug="site-test")
    DiffusionRun.objects.create(
        partenaire=partenaire,
        nuit=timezone.localdate(),
        kind="delta",
        statut="reussi",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        nb_formations=1,
    )
    imp = ImportRun.objects.create(source="eos", nom_fichier="eos.xml", sha256="d" * 64, statut="termine")
    return {
        "organisme": organisme,
        "autre": autre,
        "lieu": lieu,
        "validee": validee,
        "session": session,
        "soumise": soumise,
        "brouillon": brouillon,
        "fil": fil,
        "partenaire": partenaire,
        "import": imp,
        "staff": staff_user,
    }


def pages_of(m):
    return [
        ("core:tableau_de_bord", []),
        ("organismes:fiche", []),
        ("organismes:fiche_modifier", []),
        ("organismes:lieux", []),
        ("organismes:lieu_ajouter", []),
        ("organismes:lieu_modifier", [m["lieu"].pk]),
        ("organismes:formateurs", []),
        ("organismes:formateur_ajouter", []),
        ("organismes:contacts", []),
        ("organismes:contact_inviter", []),
        ("organismes:contact_modifier", [m["autre"].pk]),
        ("organismes:mes_donnees", []),
        ("recherche:formations", []),
        ("offre:formations_liste", []),
        ("offre:formation_creer", []),
        ("offre:formation_detail", [m["validee"].pk]),
        ("offre:formation_modifier", [m["validee"].pk]),
        ("offre:formation_supprimer", [m["brouillon"].pk]),
        ("offre:session_creer", [m["validee"].pk]),
        ("offre:session_detail", [m["session"].pk]),
        ("offre:session_modifier", [m["session"].pk]),
        ("offre:session_dupliquer", [m["session"].pk]),
        ("validation:suivi", [m["soumise"].pk]),
        ("diffusion:session_statut", [m["session"].pk]),
        ("diffusion:liens_en_erreur", []),
        ("messagerie:fils", []),
        ("messagerie:fil", [m["fil"].pk]),
        ("messagerie:nouveau", []),
        ("messagerie:notifications", []),
        ("messagerie:preferences", []),
        ("exports:liste", []),
        ("core:historique", ["organisme", m["organisme"].pk]),
        ("accounts:password_change", []),
        ("core:aide", []),
    ]


def pages_staff(m):
    return [
        ("core:staff_home", []),
        ("accounts:demandes", []),
        ("accounts:activations", []),
        ("validation:file", []),
        ("validation:formation", [m["soumise"].pk]),
        ("organismes:staff_liste", []),
        ("organismes:staff_detail", [m["organisme"].pk]),
        ("organismes:staff_demandes", []),
        ("recherche:formations", []),
        ("messagerie:fils", []),
        ("messagerie:fil", [m["fil"].pk]),
        ("exports:liste", []),
        ("diffusion:imports", []),
        ("diffusion:import_detail", [m["import"].pk]),
        ("diffusion:runs", []),
        ("diffusion:partenaires", []),
        ("diffusion:partenaire", [m["partenaire"].pk]),
        ("accounts:password_change", []),
    ]


def accueil_du_menu(doc) -> str | None:
    """The first link of the left menu: the user's home."""
    liens = doc.xpath('//nav[@aria-label="Menu principal"]//a/@href')
    return liens[0] if liens else None


def defauts(page: bytes) -> list[str]:
    doc = html.fromstring(page)
    problemes = []
    titre = doc.findtext(".//title") or ""
    if not re.search(r"\S — OFeli\b", titre):
        problemes.append(f"titre « {titre} »")
    fil = doc.xpath('//nav[@aria-label="Fil d\'Ariane"]//ol[contains(@class, "breadcrumb")]/li')
    if not fil:
        problemes.append("pas de fil d'Ariane")
    elif fil[-1].get("aria-current") != "page":
        problemes.append("le fil d'Ariane ne finit pas par la page courante")
    elif len(fil) > 1 and fil[0].xpath("./a/@href") != [accueil_du_menu(doc)]:
        problemes.append("le fil d'Ariane ne commence pas par l'accueil")
    elif len({tuple(li.xpath("./a/@href")) for li in fil[:-1]}) != len(fil) - 1:
        problemes.append("un lien apparaît deux fois dans le fil d'Ariane")
    h1 = doc.xpath("//h1")
    if len(h1) != 1:
        problemes.append(f"{len(h1)} <h1>")
    if not doc.xpath('//a[contains(@class, "skip-link")][@href="#contenu"]') or not doc.xpath('//*[@id="contenu"]'):
        problemes.append("pas de lien d'évitement vers #contenu")
    for script in doc.xpath("//script|//style"):
        script.drop_tree()
    texte = doc.text_content()
    if dates := ISO.findall(texte):
        problemes.append(f"date ISO affichée : {dates[:3]}")
    return problemes


def parcourir(client, pages) -> dict:
    erreurs = {}
    for nom, args in pages:
        url = reverse(nom, args=args)
        reponse = client.get(url)
        if reponse.status_code != 200:
            erreurs[nom] = [f"HTTP {reponse.status_code}"]
            continue
        if problemes := defauts(reponse.content):
            erreurs[nom] = problemes
    return erreurs


def test_every_main_page_of_an_of_contact_has_its_navigation(client, monde, gestionnaire):
    client.force_login(gestionnaire.user)
    assert parcourir(client, pages_of(monde)) == {}


def test_every_main_page_of_the_equipe_offre_has_its_navigation(client, monde):
    client.force_login(monde["staff"])
    assert parcourir(client, pages_staff(monde)) == {}


def test_the_breadcrumb_leads_home_then_to_the_menu_entry(client, monde, gestionnaire):
    client.force_login(gestionnaire.user)
    doc = html.fromstring(client.get(reverse("organismes:contact_modifier", args=[monde["autre"].pk])).content)
    fil = doc.xpath('//nav[@aria-label="Fil d\'Ariane"]//li')
    assert fil[0].xpath("./a/@href") == [reverse("core:tableau_de_bord")]
    assert [li.xpath("./a/@href") for li in fil[1:-1]] == [[reverse("organismes:contacts")]]
    assert fil[-1].text_content().strip() in doc.findtext(".//title")
    # on the home page itself, the breadcrumb is the page alone
    doc = html.fromstring(client.get(reverse("core:tableau_de_bord")).content)
    (seul,) = doc.xpath('//nav[@aria-label="Fil d\'Ariane"]//li')
    assert seul.get("aria-current") == "page" and not seul.xpath("./a")


def test_dates_are_written_day_first(client, monde, gestionnaire):
    client.force_login(gestionnaire.user)
    texte = html.fromstring(client.get(reverse("offre:session_detail", args=[monde["session"].pk])).content)
    assert monde["session"].debut.strftime("%d/%m/%Y") in texte.text_content()


def test_an_anonymous_page_has_no_breadcrumb_but_its_title(client, db):
    doc = html.fromstring(client.get(reverse("accounts:login")).content)
    assert not doc.xpath('//nav[@aria-label="Fil d\'Ariane"]')
    assert " — OFeli" in doc.findtext(".//title")


def test_the_checker_sees_a_page_without_navigation():
    """The walk above would pass on anything if its checker saw nothing: a bare page has every defect."""
    page = b"<html><head><title>Page</title></head><body><h1>A</h1><h1>B</h1><p>le 2026-03-01</p></body></html>"
    problemes = defauts(page)
    assert len(problemes) == 5, problemes


def test_the_development_outbox_dates_its_mails_day_first(client, staff_user, settings, tmp_path):
    from django.core.mail import send_mail

    settings.DEBUG = True
    settings.EMAIL_BACKEND = "ofeli.core.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    send_mail("Votre clé d'activation", "Bonjour", "ofeli@gip.example", ["contact@exemple.fr"])
    client.force_login(staff_user)
    doc = html.fromstring(client.get(reverse("core:mail_outbox")).content)
    (cellule,) = doc.xpath("//tbody/tr/td[1]")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", cellule.text_content().strip())
    lien = doc.xpath("//tbody//a/@href")[0]
    page = client.get(lien).content
    assert not defauts(page)
    assert timezone.localtime().strftime("%d/%m/%Y") in html.fromstring(page).text_content()


def test_the_diffusion_runs_list_paginates_and_keeps_its_filter(client, staff_user):
    partenaire = Partenaire.objects.create(nom="Partenaire paginé", slug="partenaire-pagine")
    debut = timezone.localdate()
    DiffusionRun.objects.bulk_create(
        DiffusionRun(
            partenaire=partenaire,
            nuit=debut - datetime.timedelta(days=i),
            kind="delta",
            statut="echec",
            started_at=timezone.now(),
        )
        for i in range(55)
    )
    client.force_login(staff_user)
    doc = html.fromstring(client.get(reverse("diffusion:runs"), {"statut": "echec"}).content)
    assert len(doc.xpath("//tbody/tr")) == 50
    (suivante,) = doc.xpath('//nav[@aria-label="Pagination"]//a[contains(., "Page suivante")]/@href')
    assert "statut=echec" in suivante and "page=2" in suivante
    doc = html.fromstring(client.get(reverse("diffusion:runs") + suivante).content)
    assert len(doc.xpath("//tbody/tr")) == 5
