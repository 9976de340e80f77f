"""Tenant isolation, checked on EVERY route of the project (design note 3).

The walk goes through django.urls.get_resolver() recursively, so a route added by any app is
covered without touching this file:

- every view must carry a gate mark (`ofeli_gate`, set by of_required, authenticated, public,
  staff_required); a route without one fails `test_every_route_has_a_gate`, which lists it;
- each route's URL kwargs are filled from OBJETS_OF_A (kwarg name -> object of OF A); a route
  whose kwargs cannot be filled fails and says to add the kwarg to the map;
- OF routes ("of:*") and personal routes ("self") are called, GET and POST, by a user of OF B:
  with ids of OF A they must answer 403/404 (405 for a method the view does not take), and no
  answer may ever show OF A's data or change it;
- writing OF routes ("of:saisir", "of:gerer") are called by a "consulter" contact of OF A: 403,
  no write;
- staff routes ("staff") answer 403 to an OF contact; every non-public route sends an
  anonymous visitor to the login page; public routes are classified by their mark only.

Django's own admin (/technique/admin/) is excluded explicitly.
"""

import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern

from ofeli.accounts.models import User
from ofeli.offre.models import Action, Formation, Session
from ofeli.organismes.gate import Intent, of_required
from ofeli.organismes.models import Contact, DemandeModificationIdentite, Lieu, Organisme, OrganismeFormateur
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    OrganismeFormateurFactory,
    SessionFactory,
    UserFactory,
)

# Namespaces excluded from the walk, with the reason. Nothing else may be excluded.
EXCLUDED_NAMESPACES = {
    "admin": "l'administration technique de Django (/technique/admin/), réservée aux superutilisateurs"
}

# "partner": the partner API (ofeli.diffusion.api.partner_token), a bearer token, no session: 401 without it.
KNOWN_GATES = {"public", "self", "staff", "of:read", "of:saisir", "of:gerer", "partner"}
WRITING_GATES = {"of:saisir", "of:gerer"}
SECRET = "ALPHA-SECRET"
SECRET_PERSON = "Alphasecret"

# URL kwarg name -> how to get the matching object of OF A from the world (value used in the URL).
# Add your kwarg here when you add a route whose URL carries an object id.
OBJETS_OF_A = {
    "organisme_id": lambda w: w.organisme.pk,
    "contact_id": lambda w: w.autre_contact.pk,
    "lieu_id": lambda w: w.lieu.pk,
    "formateur_id": lambda w: w.formateur.pk,
    "demande_id": lambda w: w.demande.pk,
    "formation_id": lambda w: w.formation.pk,
    "action_id": lambda w: w.action.pk,
    "session_id": lambda w: w.session.pk,
    "export_id": lambda w: _export_de_a(w),
    "formation_pk": lambda w: w.formation.pk,
    "campagne_id": lambda w: _campagne_de_a(w),
}


def _campagne_de_a(w):
    """An open campaign in which OF A takes part (another OF's contact must get a 404), created on first use."""
    if "campagne" not in w.__dict__:
        from django.utils import timezone

        from ofeli.campagnes.models import Campagne, Participation

        campagne = Campagne.objects.create(
            type_offre="apprentissage", debut=timezone.localdate(), fin=timezone.localdate(), ouverte_at=timezone.now()
        )
        Participation.objects.create(campagne=campagne, organisme=w.organisme)
        w.__dict__["campagne"] = campagne.pk
    return w.__dict__["campagne"]


def _import_tableur_de_a(w):
    """A spreadsheet import of OF A, checked and waiting for confirmation."""
    from ofeli.tableur.models import ImportTableur

    return ImportTableur.objects.create(
        organisme=w.organisme, nom_fichier="a.xlsx", sha256="0" * 64, fichier="tableur/a.xlsx", statut="verifie"
    ).pk


# Routes whose kwarg name alone does not say the object (a bare "pk"): route-name prefix -> kwargs.
# The longest matching prefix wins; OBJETS_OF_A is used for the other kwargs.
OBJETS_PAR_ROUTE = {
    "offre:formation_": {"pk": lambda w: w.formation.pk},
    "offre:session_": {"pk": lambda w: w.session.pk},
    "offre:piece_jointe": {"pk": lambda w: w.piece_jointe().pk},
    "validation:suivi": {"pk": lambda w: w.formation.pk},
    "validation:corrections_effectuees": {"pk": lambda w: w.demande_complement().pk},
    "diffusion:import_": {"pk": lambda w: _import_run()},
    "tableur:": {"pk": lambda w: _import_tableur_de_a(w)},
}


def getter_for(route_name: str, kwarg: str):
    for prefix in sorted(OBJETS_PAR_ROUTE, key=len, reverse=True):
        if route_name.startswith(prefix) and kwarg in OBJETS_PAR_ROUTE[prefix]:
            return OBJETS_PAR_ROUTE[prefix][kwarg]
    return OBJETS_OF_A.get(kwarg)


def _import_run():
    """An import of offer (staff only, no OF owns it)."""
    from ofeli.diffusion.models_imports import ImportRun

    return ImportRun.objects.create(source="eos", nom_fichier="a.xml", sha256="0" * 64, statut="erreur").pk


def _export_de_a(w):
    """An export of OF A (ready, with a file name), created on first use."""
    if "export" not in w.__dict__:
        from ofeli.exports.models import Export

        w.__dict__["export"] = Export.objects.create(
            user=w.gestionnaire.user, organisme=w.organisme, format="lheo", statut="pret", fichier="exports/a.xml"
        ).pk
    return w.__dict__["export"]


def _messagerie_de_a(w):
    """OF A's thread (with a message, an attachment row and a notice), created on first use."""
    if "messagerie" not in w.__dict__:
        from ofeli.messagerie import services as messagerie
        from ofeli.messagerie.models import Notification, PieceJointeMessage

        fil = messagerie.fil_creer(
            organisme=w.organisme, auteur=w.gestionnaire.user, sujet=f"{SECRET} fil", texte=f"{SECRET} message"
        )
        piece = PieceJointeMessage.objects.create(
            message=fil.messages.get(),
            fichier="messagerie/inexistant.pdf",
            nom_original=f"{SECRET}.pdf",
            content_type="application/pdf",
            taille=10,
        )
        notice = Notification.objects.create(
            user=w.gestionnaire.user, organisme=w.organisme, type="validation", sujet=f"{SECRET} notice"
        )
        w.__dict__["messagerie"] = {"fil_id": fil.pk, "piece_id": piece.pk, "notification_id": notice.pk}
    return w.__dict__["messagerie"]


# Routes whose kwargs are not object ids alone (a generic page over several kinds of objects):
# route name -> the list of kwargs sets to call it with, for OF A's objects.
KWARGS_PAR_ROUTE = {
    "messagerie:fil": lambda w: [{"fil_id": _messagerie_de_a(w)["fil_id"]}],
    "messagerie:piece": lambda w: [{"piece_id": _messagerie_de_a(w)["piece_id"]}],
    "messagerie:notification_lue": lambda w: [{"notification_id": _messagerie_de_a(w)["notification_id"]}],
    "core:historique": lambda w: [
        {"objet": "organisme", "pk": w.organisme.pk},
        {"objet": "contact", "pk": w.autre_contact.pk},
        {"objet": "lieu", "pk": w.lieu.pk},
        {"objet": "formation", "pk": w.formation.pk},
        {"objet": "action", "pk": w.action.pk},
        {"objet": "session", "pk": w.session.pk},
    ],
}

# Values for routes that are not called with objects (staff, anonymous checks): anything the converter accepts.
DUMMY_BY_CONVERTER = {
    IntConverter: 1,
    StringConverter: "x",
    SlugConverter: "x",
    PathConverter: "x",
    UUIDConverter: uuid.UUID(int=1),
}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str
    callback: object
    kwargs: tuple  # ((kwarg name, converter), ...)

    @property
    def gate(self):
        return getattr(self.callback, "ofeli_gate", None)

    def __str__(self):
        return f"{self.name} (/{self.pattern})"


def _pattern_kwargs(pattern):
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters.items())
    if isinstance(pattern, RegexPattern):
        return [(name, StringConverter()) for name in pattern.regex.groupindex]
    return []


def walk(resolver=None, prefix="", namespace="", kwargs=()):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            ns = ":".join(p for p in [namespace, entry.namespace] if p)
            yield from walk(entry, prefix + str(entry.pattern), ns, kwargs + tuple(_pattern_kwargs(entry.pattern)))
        elif isinstance(entry, URLPattern):
            name = ":".join(p for p in [namespace, entry.name or ""] if p) if entry.name else ""
            yield Route(
                name=name,
                pattern=prefix + str(entry.pattern),
                callback=entry.callback,
                kwargs=kwargs + tuple(_pattern_kwargs(entry.pattern)),
            )


ROUTES = list(walk())


def _ids(routes):
    return [r.name or r.pattern for r in routes]


def test_the_walk_sees_the_routes_of_every_app():
    names = {r.name for r in ROUTES}
    assert {"organismes:fiche", "organismes:contacts", "core:tableau_de_bord"} <= names
    assert not any(r.pattern.startswith("technique/admin/") for r in ROUTES)


def test_every_route_has_a_gate():
    missing = [str(r) for r in ROUTES if r.gate is None]
    assert not missing, (
        "Ces routes n'ont pas de garde (of_required, authenticated, public ou staff_required de "
        "ofeli.organismes.gate / ofeli.core.permissions) :\n  " + "\n  ".join(missing)
    )


def test_every_gate_mark_is_known():
    unknown = [f"{r} -> {r.gate!r}" for r in ROUTES if r.gate is not None and r.gate not in KNOWN_GATES]
    assert not unknown, (
        "Marque de garde inconnue : classez-la dans tests/test_isolation_urls.py (KNOWN_GATES) :\n  "
        + "\n  ".join(unknown)
    )


def test_every_route_is_named():
    unnamed = [r.pattern for r in ROUTES if not r.name]
    assert not unnamed, "Donnez un nom (name=...) à ces routes pour que le test d'isolation les appelle : " + ", ".join(
        unnamed
    )


def test_every_object_kwarg_of_a_protected_route_is_in_the_map():
    missing = [
        f"{r} : « {kw} »"
        for r in ROUTES
        if r.gate in (KNOWN_GATES - {"public", "staff", "partner"}) and r.name not in KWARGS_PAR_ROUTE
        for kw, _ in r.kwargs
        if getter_for(r.name, kw) is None
    ]
    assert not missing, (
        "Ces paramètres d'URL ne sont ni dans OBJETS_OF_A ni dans OBJETS_PAR_ROUTE de tests/test_isolation_urls.py : "
        "ajoutez-y le paramètre et l'objet de l'organisme A qui lui correspond :\n  " + "\n  ".join(missing)
    )


# --- the world: OF A with one object of each kind, OF B with its own user ----------------


@dataclass
class World:
    organisme: Organisme
    gestionnaire: Contact
    lecteur: Contact
    autre_contact: Contact
    lieu: Lieu
    formateur: OrganismeFormateur
    demande: DemandeModificationIdentite
    formation: Formation
    action: Action
    session: Session
    organisme_b: Organisme
    gestionnaire_b: Contact

    def piece_jointe(self):
        from ofeli.offre.models import PieceJointe

        return PieceJointe.objects.get_or_create(
            organisme=self.organisme,
            formation=self.formation,
            defaults={
                "nature": "autre",
                "fichier": "offre/isolation/alpha-secret.pdf",
                "nom_original": f"{SECRET}.pdf",
                "content_type": "application/pdf",
                "taille": 10,
            },
        )[0]

    def demande_complement(self):
        from ofeli.validation.models import DemandeComplement

        return DemandeComplement.objects.get_or_create(
            organisme=self.organisme, formation=self.formation, defaults={"message": f"{SECRET} complément"}
        )[0]

    def fingerprint(self):
        """Every row of OF A (and its contacts' accounts), to prove that nothing was written."""
        a = self.organisme
        user_ids = Contact.objects.filter(organisme=a).values_list("user_id", flat=True)
        return {
            "organisme": list(Organisme.objects.filter(pk=a.pk).values()),
            "contacts": list(Contact.objects.filter(organisme=a).order_by("pk").values()),
            # last_login changes when a test logs in: it is not a write of the view under test.
            "users": [
                {k: v for k, v in row.items() if k != "last_login"}
                for row in User.objects.filter(pk__in=list(user_ids)).order_by("pk").values()
            ],
            "lieux": list(Lieu.objects.filter(organisme=a).order_by("pk").values()),
            "formateurs": list(OrganismeFormateur.objects.filter(organisme=a).order_by("pk").values()),
            "demandes": list(DemandeModificationIdentite.objects.filter(organisme=a).order_by("pk").values()),
            "formations": list(Formation.objects.filter(organisme=a).order_by("pk").values()),
            "actions": list(Action.objects.filter(formation__organisme=a).order_by("pk").values()),
            "sessions": list(Session.objects.filter(action__formation__organisme=a).order_by("pk").values()),
            "historique": sum(
                m.history.filter(**flt).count()
                for m, flt in [
                    (Organisme, {"id": a.pk}),
                    (Contact, {"organisme_id": a.pk}),
                    (Lieu, {"organisme_id": a.pk}),
                    (OrganismeFormateur, {"organisme_id": a.pk}),
                ]
            ),
        }


# Users log in with force_login: no password to hash (Argon2 is slow on purpose).
FAST = {"user__password": None}


@pytest.fixture
def world(db):
    a = OrganismeFactory(raison_sociale=f"{SECRET} organisme", sigle="ASEC")
    gestionnaire = ContactFactory(organisme=a, gestionnaire=True, user__last_name=f"{SECRET_PERSON}un", **FAST)
    lecteur = ContactFactory(organisme=a, lecteur=True, user__last_name=f"{SECRET_PERSON}deux", **FAST)
    autre = ContactFactory(organisme=a, peut_saisir=True, user__last_name=f"{SECRET_PERSON}trois", **FAST)
    demandeur = gestionnaire.user
    demande = DemandeModificationIdentite.objects.create(
        organisme=a,
        raison_sociale=f"{SECRET} nouveau nom",
        siret=a.siret,
        nda=a.nda,
        ancienne_raison_sociale=a.raison_sociale,
        ancien_siret=a.siret,
        ancien_nda=a.nda,
        demandee_par=demandeur,
    )
    formation = FormationFactory(organisme=a, intitule=f"{SECRET} formation")
    action = ActionFactory(formation=formation)
    session = SessionFactory(action=action)
    b = OrganismeFactory(raison_sociale="Organisme B")
    return World(
        organisme=a,
        gestionnaire=gestionnaire,
        lecteur=lecteur,
        autre_contact=autre,
        lieu=LieuFactory(organisme=a, denomination=f"{SECRET} lieu"),
        formateur=OrganismeFormateurFactory(organisme=a, raison_sociale=f"{SECRET} formateur"),
        demande=demande,
        formation=formation,
        action=action,
        session=session,
        organisme_b=b,
        gestionnaire_b=ContactFactory(organisme=b, gestionnaire=True, **FAST),
    )


def _urls(route: Route, world: World) -> list[str]:
    """The URLs of `route` for OF A's objects."""
    if route.name in KWARGS_PAR_ROUTE:
        return [reverse(route.name, kwargs=kwargs) for kwargs in KWARGS_PAR_ROUTE[route.name](world)]
    return [_url(route, world)]


def _url(route: Route, world: World | None):
    kwargs = {}
    for kw, converter in route.kwargs:
        if world is not None and getter_for(route.name, kw) is not None:
            kwargs[kw] = getter_for(route.name, kw)(world)
        elif world is not None:
            pytest.fail(
                f"{route} : le paramètre d'URL « {kw} » n'est ni dans OBJETS_OF_A ni dans OBJETS_PAR_ROUTE de "
                "tests/test_isolation_urls.py ; ajoutez-le avec l'objet de l'organisme A qui lui correspond."
            )
        else:
            kwargs[kw] = DUMMY_BY_CONVERTER.get(type(converter), "x")
    return reverse(route.name, kwargs=kwargs)


def _payload(world: World):
    """A POST body naming OF A's objects, so that ids sent in forms are checked too."""
    data = {"confirmer": "1", "decision": "accepter", "motif_refus": "Motif", "motif": "Motif"}
    for kw, getter in OBJETS_OF_A.items():
        value = str(getter(world))
        data[kw] = value
        data[kw.removesuffix("_id")] = value
    return data


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _assert_no_data_of_a(route, method, response):
    body = _body(response)
    assert SECRET.encode() not in body and SECRET_PERSON.encode() not in body, (
        f"{method} {route} montre des données de l'organisme A à un utilisateur de l'organisme B"
    )


def _call(client, method, url, world):
    if method == "GET":
        return client.get(url)
    return client.post(url, _payload(world))


OF_ROUTES = [r for r in ROUTES if r.gate in {"of:read", "of:saisir", "of:gerer", "self"}]
STAFF_ROUTES = [r for r in ROUTES if r.gate == "staff"]
PROTECTED_ROUTES = [r for r in ROUTES if r.gate is not None and r.gate not in ("public", "partner")]
PARTNER_ROUTES = [r for r in ROUTES if r.gate == "partner"]


@pytest.mark.parametrize("route", OF_ROUTES, ids=_ids(OF_ROUTES))
def test_a_user_of_another_organisme_never_reaches_its_objects(route, world):
    before = world.fingerprint()
    for url, method in [(url, method) for url in _urls(route, world) for method in ("GET", "POST")]:
        response = _call(_client(world.gestionnaire_b.user), method, url, world)
        if route.kwargs:
            assert response.status_code in (403, 404, 405), (
                f"{method} {url} ({route}) par un utilisateur de l'organisme B avec des identifiants de "
                f"l'organisme A : {response.status_code}, attendu 404 ou 403"
            )
        _assert_no_data_of_a(route, method, response)
        assert world.fingerprint() == before, f"{method} {url} ({route}) par l'organisme B a modifié l'organisme A"


WRITING_ROUTES = [r for r in ROUTES if r.gate in WRITING_GATES]


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=_ids(WRITING_ROUTES))
def test_a_consulter_contact_cannot_write(route, world):
    before = world.fingerprint()
    for url, method in [(url, method) for url in _urls(route, world) for method in ("GET", "POST")]:
        response = _call(_client(world.lecteur.user), method, url, world)
        allowed = {403, 405} if method == "GET" else {403}  # a POST-only view may refuse GET first
        assert response.status_code in allowed, (
            f"{method} {url} ({route}) par un contact « consulter » de l'organisme : {response.status_code}, "
            "attendu 403"
        )
        assert world.fingerprint() == before, f"{method} {url} ({route}) par un contact « consulter » a écrit"


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=_ids(STAFF_ROUTES))
def test_staff_routes_refuse_an_of_contact(route, world):
    before = world.fingerprint()
    url = _url(route, None)
    for method in ("GET", "POST"):
        response = _call(_client(world.gestionnaire_b.user), method, url, world)
        assert response.status_code == 403, f"{method} {url} ({route}) par un contact : {response.status_code}"
    assert world.fingerprint() == before


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=_ids(PROTECTED_ROUTES))
def test_protected_routes_send_an_anonymous_visitor_to_login(route, world):
    before = world.fingerprint()
    url = _url(route, None)
    login = resolve_url(settings.LOGIN_URL)
    for method in ("GET", "POST"):
        response = _call(Client(), method, url, world)
        if response.status_code == 405:
            continue
        assert response.status_code == 302 and urlparse(response["Location"]).path == login, (
            f"{method} {url} ({route}) sans être connecté : {response.status_code}, attendu une redirection vers "
            "la connexion"
        )
    assert world.fingerprint() == before


@pytest.mark.parametrize("route", PARTNER_ROUTES, ids=_ids(PARTNER_ROUTES))
def test_partner_routes_refuse_a_request_without_token(route, world):
    """The partner API answers 401 without a token, even to a logged-in user (no session authentication)."""
    url = _url(route, None)
    for client in (Client(), _client(world.gestionnaire.user)):
        assert client.get(url).status_code == 401, f"GET {url} ({route}) sans jeton"


def test_the_walk_really_checks_something(world, client):
    """Guards the guard: with a user of A, the same fiche shows A's data (so the absence for B means something)."""
    client.force_login(world.gestionnaire.user)
    assert SECRET.encode() in client.get(reverse("organismes:fiche")).content
    client.force_login(UserFactory())
    response = client.get(reverse("organismes:fiche"))
    assert response.status_code == 403


def _ungated_view(request, lieu_id):  # a route someone forgot to protect
    raise AssertionError("never called")


def test_the_walk_catches_a_route_without_a_gate_and_an_unknown_kwarg():
    from django.urls import path
    from django.urls.resolvers import RoutePattern

    fake = URLResolver(
        RoutePattern(""),
        [
            path("oubli/<int:lieu_id>/", _ungated_view, name="oubli"),
            path("inconnu/<int:bidule_id>/", of_required(Intent.READ)(_ungated_view), name="inconnu"),
        ],
    )
    routes = list(walk(fake))
    assert [r.gate for r in routes] == [None, "of:read"]
    assert routes[1].kwargs[0][0] not in OBJETS_OF_A
