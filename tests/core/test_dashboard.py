import datetime

import pytest
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from ofeli.core import dashboard
from ofeli.messagerie import services as messagerie
from ofeli.messagerie.notifications import notifier
from ofeli.offre.models import DISPOSITIFS_FONDS_PUBLICS, Action, Dispositif, Etat, EtatRecrutement, Formation
from ofeli.validation.models import DemandeComplement, Publication
from tests.factories import ActionFactory, FormationFactory, OrganismeFactory, SessionFactory

pytestmark = pytest.mark.django_db


def publier(formation, *, fonds_publics=None, closed=False, numero=1):
    if fonds_publics is None:
        fonds_publics = formation.actions.filter(dispositif__in=DISPOSITIFS_FONDS_PUBLICS).exists()
    return Publication.objects.create(
        formation=formation,
        organisme=formation.organisme,
        fonds_publics=fonds_publics,
        numero=numero,
        data={},
        validated_at=timezone.now(),
        closed_at=timezone.now() if closed else None,
    )


def offre_variee(organisme):
    """A mix of every situation the counters must tell apart."""
    # diffused, privately funded
    f = FormationFactory(organisme=organisme, validee=True)
    ActionFactory(formation=f, dispositif=Dispositif.CONTRAT_PRO)
    publier(f)
    # diffused, public funds (AIF)
    f = FormationFactory(organisme=organisme, validee=True)
    ActionFactory(formation=f, dispositif=Dispositif.AIF)
    ActionFactory(formation=f, dispositif=Dispositif.ENTREPRISE_PARTICULIER)
    publier(f)
    # diffused (Région), being changed: still diffused, and waiting for validation
    f = FormationFactory(organisme=organisme, validee=True)
    ActionFactory(formation=f, dispositif=Dispositif.REGION)
    publier(f, closed=True, numero=1)
    publier(f, numero=2)
    Formation.objects.filter(pk=f.pk).update(etat=Etat.EN_ATTENTE)
    # submitted, never validated
    FormationFactory(organisme=organisme, soumise=True)
    # drafts
    FormationFactory.create_batch(2, organisme=organisme)
    # waiting for a complement
    FormationFactory(organisme=organisme, etat=Etat.COMPLEMENT)
    # withdrawn by the GIP: its publication was closed
    f = FormationFactory(organisme=organisme, etat=Etat.NON_DIFFUSEE)
    publier(f, closed=True)
    # archived by the OF: neither diffused nor counted as "non diffusée"
    f = FormationFactory(organisme=organisme, archivee=True)
    publier(f, closed=True)


def direct_counts(organisme):
    courante = Publication.objects.filter(formation=OuterRef("pk"), closed_at__isnull=True)
    formations = Formation.objects.filter(organisme=organisme)
    diffusees = formations.filter(Exists(courante))
    return {
        "diffusees": diffusees.count(),
        "fonds_publics_diffusees": diffusees.filter(
            pk__in=Action.objects.filter(dispositif__in=DISPOSITIFS_FONDS_PUBLICS).values("formation_id")
        ).count(),
        "en_attente": formations.filter(etat=Etat.EN_ATTENTE).count(),
        "non_diffusees": formations.exclude(Exists(courante)).exclude(etat=Etat.ARCHIVE_OF).count(),
        "brouillons": formations.filter(etat=Etat.BROUILLON).count(),
        "complements": formations.filter(etat=Etat.COMPLEMENT).count(),
    }


def test_counters_equal_direct_queries(organisme):
    offre_variee(organisme)
    offre_variee(OrganismeFactory())  # another organisme's offer counts for nothing here
    counts = dashboard.compteurs_formations(organisme)
    assert counts == direct_counts(organisme)
    assert counts == {
        "diffusees": 3,
        "fonds_publics_diffusees": 2,
        "en_attente": 2,
        "non_diffusees": 5,
        "brouillons": 2,
        "complements": 1,
    }


def test_non_diffusees_is_everything_not_diffused_but_archives(organisme):
    offre_variee(organisme)
    counts = dashboard.compteurs_formations(organisme)
    archivees_non_diffusees = (
        Formation.objects.filter(organisme=organisme, etat=Etat.ARCHIVE_OF)
        .exclude(publications__closed_at__isnull=True)
        .count()
    )
    total = Formation.objects.filter(organisme=organisme).count()
    assert counts["diffusees"] + counts["non_diffusees"] + archivees_non_diffusees == total


def test_website_link_errors_are_zero_until_the_link_checker_exists(organisme):
    assert dashboard.erreurs_liens_site_internet(organisme) == 0


def test_session_counters(organisme):
    today = timezone.localdate()
    f = FormationFactory(organisme=organisme, validee=True)
    action = ActionFactory(formation=f)

    def session(fin, **kw):
        return SessionFactory(action=action, debut=fin - datetime.timedelta(days=60), fin=fin, **kw)

    session(today + datetime.timedelta(days=10))  # ends soon, open
    session(today)  # ends today, open
    session(today + datetime.timedelta(days=10), etat_recrutement=EtatRecrutement.FERME)  # closed: fine
    session(today - datetime.timedelta(days=3))  # ended, still open
    session(today - datetime.timedelta(days=3), etat=Etat.ARCHIVE_OF)  # archived: fine
    session(today + datetime.timedelta(days=90))  # far away
    session(today + datetime.timedelta(days=90), etat=Etat.BROUILLON)
    session(today + datetime.timedelta(days=90), etat=Etat.COMPLEMENT)
    SessionFactory(fin=today)  # another organisme
    assert dashboard.compteurs_sessions(organisme, today) == {
        "fin_proche": 2,
        "terminees_ouvertes": 1,
        "brouillons": 1,
        "complements": 1,
    }


def test_the_page_shows_the_guides_counters_with_links(client, lecteur):
    offre_variee(lecteur.organisme)
    client.force_login(lecteur.user)
    response = client.get(reverse("core:tableau_de_bord"))
    assert response.status_code == 200
    html = response.content.decode()
    compteurs = {c["libelle"]: c["valeur"] for c in response.context["compteurs"]}
    assert compteurs == {
        "Formations diffusées": 3,
        "Formations fonds publics diffusées": 2,
        "Formations en attente de validation par Ofeli - OFeli - GIP Alfa CVL": 2,
        "Formations non diffusées": 5,
    }
    assert "Erreur liens site internet" in html
    liste = reverse("recherche:formations")
    assert f'href="{liste}?etat=validee"' in html
    assert f'href="{liste}?etat=validee&amp;fonds_publics=oui"' in html
    assert f'href="{liste}?etat=en_attente"' in html


def test_the_page_costs_a_bounded_number_of_queries(client, gestionnaire, django_assert_max_num_queries):
    client.force_login(gestionnaire.user)
    url = reverse("core:tableau_de_bord")
    client.get(url)  # warm the session
    offre_variee(gestionnaire.organisme)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for _ in range(10):
        offre_variee(gestionnaire.organisme)
        f = FormationFactory(organisme=gestionnaire.organisme, validee=True)
        SessionFactory(action=ActionFactory(formation=f), fin=timezone.localdate())
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.context["compteurs"][0]["valeur"] == 3 * 11  # the 10 last ones have no publication


def test_requests_for_complement_unread_messages_and_badge(client, gestionnaire, staff_user):
    f = FormationFactory(organisme=gestionnaire.organisme, etat=Etat.COMPLEMENT, intitule="Cariste CACES")
    DemandeComplement.objects.create(
        formation=f,
        organisme=gestionnaire.organisme,
        message="Précisez le lieu de formation.",
        lien=f"/offre/formations/{f.pk}/modifier/",
        demandee_par=staff_user,
    )
    fil = messagerie.fil_pour_objet(organisme=gestionnaire.organisme, formation=f)
    messagerie.message_envoyer(fil=fil, auteur=staff_user, texte="Voir la demande")
    notifier(organisme=gestionnaire.organisme, type="complement", sujet="Complément demandé", texte="", lien="/")
    client.force_login(gestionnaire.user)
    response = client.get(reverse("core:tableau_de_bord"))
    html = response.content.decode()
    assert response.context["messages_non_lus"] == 1
    assert response.context["badge"] == 2  # one message + one notice (the message's own notice is not counted twice)
    assert "Précisez le lieu de formation." in html
    assert f'href="/offre/formations/{f.pk}/modifier/"' in html
    assert "Complément demandé" in html


def test_a_notice_marked_read_from_the_dashboard_comes_back_to_it(client, gestionnaire):
    (notice,) = notifier(organisme=gestionnaire.organisme, type="validation", sujet="Validée", texte="", lien="")
    client.force_login(gestionnaire.user)
    url = reverse("core:tableau_de_bord")
    response = client.post(reverse("messagerie:notification_lue", args=[notice.pk]), {"suivant": url})
    assert response["Location"] == url
    assert client.get(url).context["badge"] == 0


def test_staff_are_sent_to_their_home(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("core:tableau_de_bord"))["Location"] == reverse("core:staff_home")


def test_lien_skips_routes_that_do_not_exist():
    assert dashboard.lien("nulle:part") is None
    assert dashboard.lien("messagerie:fils", query={"non_lus": "on"}) == "/messagerie/?non_lus=on"
