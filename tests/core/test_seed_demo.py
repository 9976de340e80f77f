from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from ofeli.accounts.models import DemandeCompte, User
from ofeli.core.management.commands.seed_demo import DEMO_PASSWORD, STAFF
from ofeli.core.region import current_region
from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.organismes.models import Contact, Lieu, Organisme
from ofeli.referentiels.models import Certification, Commune, Formacode
from ofeli.validation.models import Publication

pytestmark = pytest.mark.django_db

MODELS = [User, Organisme, Contact, Lieu, Formation, Action, Session, DemandeCompte, Publication, Commune, Formacode]


@pytest.fixture(autouse=True)
def fast_hasher_and_private_files_in_tmp(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {m.__name__: m.objects.count() for m in MODELS}


def test_seed_demo_twice_creates_everything_once():
    seed()
    first = counts()
    out = seed()
    assert counts() == first
    assert "0 élément(s) créé(s)" in out

    region = current_region()
    staff = User.objects.get(email=STAFF["email"])
    assert staff.is_staff and staff.check_password(DEMO_PASSWORD)
    organismes = list(Organisme.objects.all())
    assert len(organismes) == 2
    assert sorted(region.nda_est_de_la_region(o.nda) for o in organismes) == [False, True]
    for organisme in organismes:
        contacts = list(organisme.contacts.all())
        assert {(c.peut_gerer, c.peut_saisir) for c in contacts} == {(True, True), (False, True), (False, False)}
        assert all(c.user.check_password(DEMO_PASSWORD) for c in contacts)
        assert organisme.lieux.exists()
        assert all(region.contient_departement(lieu.departement) for lieu in organisme.lieux.all())
    assert set(Formation.objects.values_list("etat", flat=True)) == set(Etat.values)
    assert set(Session.objects.values_list("etat", flat=True)) == set(Etat.values)
    # Validated through the workflow: the publication the public site and the feeds read exists.
    assert Publication.objects.filter(formation__etat=Etat.VALIDEE).exists()
    assert DemandeCompte.objects.filter(statut=DemandeCompte.Statut.EN_ATTENTE).count() == 1
    assert Formacode.objects.exists() and Certification.objects.exists()
    certifiante = Formation.objects.get(certifiante=True)
    assert list(certifiante.certifications.values_list("code", flat=True)) == ["RNCP35631"]
    assert certifiante.pieces_jointes.exists()
    assert all(s.blocs.count() == 3 for s in Session.objects.filter(action__formation=certifiante))


def test_logins_are_printed_and_work(rf):
    out = seed("--logins")
    assert f"mot de passe de tous : {DEMO_PASSWORD}" in out
    emails = [line.split()[0] for line in out.splitlines() if "@" in line]
    assert len(emails) == 7 and STAFF["email"] in emails
    for email in emails:
        assert authenticate(rf.post("/"), username=email, password=DEMO_PASSWORD), email


def test_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="interdit en production"):
        seed()
    assert not User.objects.exists()
