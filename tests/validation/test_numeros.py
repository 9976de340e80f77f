import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection, transaction

from ofeli.offre.models import Etat, Formation
from ofeli.validation import numeros, workflow
from ofeli.validation.models import Compteur
from tests.factories import FormationFactory, SessionFactory, UserFactory


@pytest.mark.django_db
def test_numbers_follow_the_counter_and_are_formatted():
    a, b = numeros.numero_suivant("session"), numeros.numero_suivant("session")
    assert a.endswith("S") and b.endswith("S")
    assert int(b[:-1]) == int(a[:-1]) + 1
    assert numeros.numero_suivant("formation").endswith("F")
    assert numeros.numero_suivant("action").endswith("A")


@pytest.fixture
def numerotation_neuve(db):
    """Numbering as in a new database: nothing drawn yet (PostgreSQL's sequences are outside the test's
    transaction, so an earlier test may have drawn from them; SQLite's counter rows roll back with each test)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for objet in ("formation", "action", "session"):
                cursor.execute(f"ALTER SEQUENCE validation_carif_{objet} RESTART")
    else:
        Compteur.objects.all().delete()


@pytest.mark.django_db
def test_counter_starts_above_existing_numbers_and_skips_taken_ones(numerotation_neuve):
    SessionFactory(numero="308695S", etat=Etat.VALIDEE)
    assert numeros.numero_suivant("session") == "308696S"
    SessionFactory(numero="308697S", etat=Etat.VALIDEE)  # e.g. imported since
    assert numeros.numero_suivant("session") == "308698S"


@pytest.mark.django_db(transaction=True)
def test_a_number_is_never_given_twice_even_after_a_failed_validation():
    staff = UserFactory(staff=True)
    premiere, seconde = (
        SessionFactory(action__formation=FormationFactory(soumise=True)).action.formation for _ in range(2)
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.formation_valider(formation=premiere, user=staff)
        tire = Formation.objects.get(pk=premiere.pk).numero
        raise RuntimeError("la validation échoue après avoir tiré son numéro")
    premiere.refresh_from_db()
    assert premiere.numero is None and premiere.etat == Etat.EN_ATTENTE  # nothing of it was kept
    workflow.formation_valider(formation=seconde, user=staff)
    workflow.formation_valider(formation=premiere, user=staff)
    seconde.refresh_from_db()
    premiere.refresh_from_db()
    assert len({seconde.numero, premiere.numero}) == 2
    # Numbers only go up: the failed validation's number is given again (SQLite: its counter rolled back) or
    # skipped (PostgreSQL: a sequence does not roll back), never given to two formations.
    assert int(seconde.numero[:-1]) >= int(tire[:-1]) and int(premiere.numero[:-1]) > int(seconde.numero[:-1])


@pytest.mark.django_db(transaction=True)
def test_concurrent_validations_get_distinct_numbers():
    """Validations in parallel threads, each its own transaction: no duplicate number.

    PostgreSQL: the counter row is locked, every validation goes through at once. The in-memory SQLite
    test database (shared cache) answers "table is locked" instead of waiting like the WAL file does in
    production (busy timeout): there a thread tries again, which is what the busy timeout does.
    """
    staff = UserFactory(staff=True)
    formations = [SessionFactory(action__formation=FormationFactory(soumise=True)).action.formation for _ in range(8)]
    erreurs = []
    barriere = threading.Barrier(len(formations))

    def valider(formation):
        try:
            barriere.wait()
            for _ in range(200):
                try:
                    workflow.formation_valider(formation=formation, user=staff)
                    break
                except OperationalError as exc:
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except Exception as exc:
            erreurs.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=valider, args=(f,)) for f in formations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert erreurs == []
    for f in formations:
        f.refresh_from_db()
    numeros_f = [f.numero for f in formations]
    numeros_s = [f.actions.get().sessions.get().numero for f in formations]
    assert len(set(numeros_f)) == len(formations)
    assert len(set(numeros_s)) == len(formations)


@pytest.mark.django_db(transaction=True)
def test_two_staff_validating_the_same_formation_at_once():
    """Exactly one validation goes through; the other is refused (state or version), one publication only."""
    from django.core.exceptions import ValidationError

    from ofeli.validation.models import Publication

    formation = SessionFactory(action__formation=FormationFactory(soumise=True)).action.formation
    version = formation.version
    staff = [UserFactory(staff=True), UserFactory(staff=True)]
    resultats = []
    barriere = threading.Barrier(2)

    def valider(user):
        try:
            barriere.wait()
            for _ in range(200):
                try:
                    workflow.formation_valider(formation=formation, user=user, version=version)
                    resultats.append("ok")
                    break
                except OperationalError as exc:
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    time.sleep(0.01)
        except ValidationError as exc:
            resultats.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=valider, args=(u,)) for u in staff]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(resultats) == ["ok", "version"]
    assert Publication.objects.filter(formation=formation).count() == 1
