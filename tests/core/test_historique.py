import pytest
from django.urls import reverse

from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormacodeFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def modifier(obj, user, **changes):
    for name, value in changes.items():
        setattr(obj, name, value)
    obj._history_user = user
    obj.save()


def test_the_history_shows_who_when_and_each_field_in_french(client, gestionnaire, staff_user):
    formation = FormationFactory(organisme=gestionnaire.organisme, intitule="Soudure à l'arc")
    modifier(formation, gestionnaire.user, intitule="Soudure TIG", niveau_entree=13)
    modifier(formation, staff_user, certifiante=True)
    client.force_login(gestionnaire.user)
    response = client.get(reverse("core:historique", args=["formation", formation.pk]))
    assert response.status_code == 200
    entrees = response.context["entrees"]
    assert [e.type for e in entrees] == ["Modification", "Modification", "Création"]
    dernier, avant_dernier, creation = entrees
    assert dernier.auteur == staff_user.get_full_name() and dernier.equipe
    assert [(c.libelle, c.avant, c.apres) for c in dernier.changements] == [("Certifiante", "Non", "Oui")]
    assert avant_dernier.auteur == gestionnaire.user.get_full_name() and not avant_dernier.equipe
    assert {(c.libelle, c.avant, c.apres) for c in avant_dernier.changements} == {
        ("Intitulé", "Soudure à l'arc", "Soudure TIG"),
        ("Niveau d'entrée", "Sans niveau spécifique", "Niveau 3 (CAP, BEP)"),
    }
    assert creation.auteur == "OFeli (traitement automatique)"
    assert ("Intitulé", "(vide)", "Soudure à l'arc") in {(c.libelle, c.avant, c.apres) for c in creation.changements}
    html = response.content.decode()
    assert "Niveau 3 (CAP, BEP)" in html and "Soudure TIG" in html


def test_foreign_keys_and_many_to_many_are_shown_by_their_labels(client, staff_user):
    formation = FormationFactory()
    formacode = FormacodeFactory()
    formation.formacodes.add(formacode)
    session = SessionFactory(action__formation=formation)
    lieu = LieuFactory(organisme=formation.organisme, denomination="Atelier nord")
    modifier(session, staff_user, adresse_inscription=lieu)
    client.force_login(staff_user)
    entrees = client.get(reverse("core:historique", args=["formation", formation.pk])).context["entrees"]
    changes = {(c.libelle, c.apres) for e in entrees for c in e.changements}
    assert ("Formacodes", str(formacode)) in changes
    entrees = client.get(reverse("core:historique", args=["session", session.pk])).context["entrees"]
    assert ("Adresse d'inscription", "(vide)", str(lieu)) in {
        (c.libelle, c.avant, c.apres) for c in entrees[0].changements
    }


@pytest.mark.parametrize("objet", ["organisme", "contact", "lieu", "formation", "action", "session"])
def test_another_organismes_history_is_a_404_and_staff_see_it(client, gestionnaire, staff_user, objet):
    autre = OrganismeFactory()
    session = SessionFactory(action=ActionFactory(formation=FormationFactory(organisme=autre)))
    objets = {
        "organisme": autre,
        "contact": ContactFactory(organisme=autre),
        "lieu": LieuFactory(organisme=autre),
        "formation": session.action.formation,
        "action": session.action,
        "session": session,
    }
    url = reverse("core:historique", args=[objet, objets[objet].pk])
    client.force_login(gestionnaire.user)
    assert client.get(url).status_code == 404
    client.force_login(staff_user)
    assert client.get(url).status_code == 200


def test_an_of_sees_the_history_of_its_own_objects(client, lecteur):
    session = SessionFactory(action__formation__organisme=lecteur.organisme)
    client.force_login(lecteur.user)
    for objet, pk in [
        ("organisme", lecteur.organisme.pk),
        ("contact", lecteur.pk),
        ("formation", session.action.formation.pk),
        ("action", session.action.pk),
        ("session", session.pk),
    ]:
        assert client.get(reverse("core:historique", args=[objet, pk])).status_code == 200


def test_unknown_kind_of_object_is_a_404_and_anonymous_must_log_in(client, gestionnaire):
    url = reverse("core:historique", args=["utilisateur", gestionnaire.user.pk])
    assert client.get(url).status_code == 302
    client.force_login(gestionnaire.user)
    assert client.get(url).status_code == 404


def test_the_history_costs_a_bounded_number_of_queries(client, staff_user, django_assert_max_num_queries):
    formation = FormationFactory()
    formation.formacodes.add(FormacodeFactory())
    client.force_login(staff_user)
    url = reverse("core:historique", args=["formation", formation.pk])
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for i in range(40):
        modifier(formation, staff_user, intitule=f"Intitulé {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["entrees"]) == 20
    assert response.context["entrees"][-1].changements  # the last of the page is diffed against the next page's first
