"""Two members of the staff accept the same request at the same moment: one wins, the other is told."""

import threading

import pytest
from django.db import OperationalError, connection

from ofeli.accounts.models import CleActivation, DemandeCompte
from ofeli.accounts.services import DemandeDejaTraitee, demande_compte_accepter, demande_compte_refuser
from ofeli.organismes.models import Organisme
from tests.factories import DemandeCompteFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def loser_errors():
    """What the second staff member gets. PostgreSQL waits on the row lock, then sees the new status.
    The SQLite test database lives in shared-cache memory, where a concurrent writer is refused at
    once ("database table is locked") instead of waiting as it does on the WAL file in production;
    either way the request is processed once, which is what these tests check."""
    if connection.vendor == "sqlite":
        return (DemandeDejaTraitee, OperationalError)
    return (DemandeDejaTraitee,)


def run_together(*actions):
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def runner(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_accept_and_refuse_at_once_process_the_request_once():
    demande = DemandeCompteFactory()
    alice, bob = UserFactory(staff=True), UserFactory(staff=True)
    results = run_together(
        lambda: demande_compte_accepter(demande=DemandeCompte.objects.get(pk=demande.pk), par=alice),
        lambda: demande_compte_refuser(demande=DemandeCompte.objects.get(pk=demande.pk), par=bob, motif="Doublon"),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], loser_errors()), results
    demande.refresh_from_db()
    if demande.statut == DemandeCompte.Statut.ACCEPTEE:
        assert demande.traitee_par == alice
        assert Organisme.objects.count() == 1
        assert CleActivation.objects.count() == 1
    else:
        assert demande.traitee_par == bob
        assert not Organisme.objects.exists()


def test_two_accepts_at_once_create_one_organisme():
    demande = DemandeCompteFactory()
    alice, bob = UserFactory(staff=True), UserFactory(staff=True)
    results = run_together(
        lambda: demande_compte_accepter(demande=DemandeCompte.objects.get(pk=demande.pk), par=alice),
        lambda: demande_compte_accepter(demande=DemandeCompte.objects.get(pk=demande.pk), par=bob),
    )
    assert sum(isinstance(r, loser_errors()) for r in results) == 1, results
    assert sum(isinstance(r, DemandeCompte) for r in results) == 1, results
    assert Organisme.objects.count() == 1
    assert CleActivation.objects.count() == 1
