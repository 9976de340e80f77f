"""Nightly feeds: full and delta files per partner, deltas (new, changed, withdrawn), idempotence, failures."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from lxml import etree

from ofeli.diffusion import feeds
from ofeli.diffusion.feeds import diffuser_partenaire, publication_lheo_preparer, statut_diffusion
from ofeli.diffusion.models import DiffusionRun, EtatDiffusion, Partenaire, PublicationLheo
from ofeli.diffusion.tasks import a_deux_heures_paris
from ofeli.lheo import NS_23
from ofeli.lheo.validate import valider_lheo
from ofeli.offre.models import Dispositif, Etat
from ofeli.validation import workflow
from tests.factories import FormationFactory, SessionFactory

NUIT = timezone.localdate()
LENDEMAIN = NUIT + datetime.timedelta(days=1)


def valider(formation, staff_user):
    """Validates a formation as the équipe offre does, then prepares its fragment (as _publier will)."""
    publication = workflow.formation_valider(formation=formation, user=staff_user)
    publication_lheo_preparer(publication)
    return publication


def formation_validee(organisme, staff_user, *, dispositif=Dispositif.ENTREPRISE_PARTICULIER, **session_kwargs):
    session = SessionFactory(
        action__formation=FormationFactory(organisme=organisme, soumise=True),
        action__dispositif=dispositif,
        **session_kwargs,
    )
    formation = session.action.formation
    valider(formation, staff_user)
    formation.refresh_from_db()
    return formation


def partenaire(slug="site-regional"):
    return Partenaire.objects.get(slug=slug)


def contenu(run) -> bytes:
    with default_storage.open(run.fichier, "rb") as f:
        return f.read()


def numeros(run, tag="formation") -> set[str]:
    root = etree.fromstring(contenu(run))
    return {e.get("numero") for e in root.iter(f"{{{NS_23}}}{tag}")}


def assert_valide(run):
    assert run.fichier, run
    assert valider_lheo(default_storage.path(run.fichier)) == []


def test_first_night_full_and_delta_hold_everything_and_are_xsd_valid(organisme, staff_user):
    a = formation_validee(organisme, staff_user)
    b = formation_validee(organisme, staff_user)
    FormationFactory(organisme=organisme, soumise=True)  # not validated: never diffused

    complet, delta = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)

    for run in (complet, delta):
        assert run.statut == DiffusionRun.Statut.REUSSI
        assert_valide(run)
        assert numeros(run) == {a.numero, b.numero}
        assert run.nb_formations == 2 and run.nb_sessions == 2
        assert len(run.sha256) == 64
    assert delta.nb_nouvelles == 2 and delta.nb_modifiees == 0 and delta.retraits == []
    assert EtatDiffusion.objects.filter(partenaire=partenaire()).count() == 2


def test_delta_says_new_changed_and_withdrawn(organisme, gestionnaire, staff_user):
    inchangee = formation_validee(organisme, staff_user)
    modifiee = formation_validee(organisme, staff_user)
    retiree = formation_validee(organisme, staff_user)
    diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)

    nouvelle = formation_validee(organisme, staff_user)
    ajout = SessionFactory(action=modifiee.actions.get(), etat=Etat.BROUILLON)
    workflow.formation_soumettre(formation=modifiee, user=gestionnaire.user)
    publication_lheo_preparer(workflow.session_valider(session=ajout, user=staff_user))
    workflow.formation_archiver(formation=retiree, user=gestionnaire.user)

    complet, delta = diffuser_partenaire(partenaire=partenaire(), nuit=LENDEMAIN)

    assert numeros(complet) == {inchangee.numero, modifiee.numero, nouvelle.numero}
    assert numeros(delta) == {modifiee.numero, nouvelle.numero}
    assert (delta.nb_nouvelles, delta.nb_modifiees, delta.nb_retirees) == (1, 1, 1)
    assert delta.retraits == [
        {"formation": retiree.numero, "sessions": [s.numero for s in retiree.actions.get().sessions.all()],
         "formation_retiree": True}
    ]  # fmt: skip
    assert_valide(delta)
    root = etree.fromstring(contenu(delta))
    extras = root.find(f"{{{NS_23}}}extras")
    assert extras.get("info") == "ofeli-retraits"
    assert [(e.get("info"), e.get("numero")) for e in extras] == [("formation-retiree", retiree.numero)]
    assert not EtatDiffusion.objects.filter(partenaire=partenaire(), formation=retiree).exists()


def test_an_ended_session_is_withdrawn_for_a_partner_that_takes_only_current_sessions(organisme, staff_user):
    session_courte = SessionFactory(
        action__formation=FormationFactory(organisme=organisme, soumise=True),
        debut=NUIT,
        fin=NUIT + datetime.timedelta(days=1),
    )
    formation = session_courte.action.formation
    longue = SessionFactory(action=session_courte.action, etat=Etat.EN_ATTENTE)
    valider(formation, staff_user)
    formation.refresh_from_db()
    session_courte.refresh_from_db()
    longue.refresh_from_db()
    base = partenaire("base-nationale-carif-oref")
    diffuser_partenaire(partenaire=base, nuit=NUIT)

    plus_tard = NUIT + datetime.timedelta(days=3)
    complet, delta = diffuser_partenaire(partenaire=base, nuit=plus_tard)

    assert numeros(delta, "session") == {longue.numero}
    assert delta.nb_modifiees == 1
    assert delta.retraits == [
        {"formation": formation.numero, "sessions": [session_courte.numero],
         "formation_retiree": False}
    ]  # fmt: skip
    assert_valide(delta)
    root = etree.fromstring(contenu(delta))
    assert [(e.get("info"), e.get("numero"), e.get("ref")) for e in root.find(f"{{{NS_23}}}extras")] == [
        ("session-retiree", session_courte.numero, formation.numero)
    ]
    # the regional site takes ended sessions too: nothing changes for it
    diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    _, delta_site = diffuser_partenaire(partenaire=partenaire(), nuit=plus_tard)
    assert delta_site.nb_formations == 0 and delta_site.fichier == "" and delta_site.retraits == []


def test_france_travail_receives_only_the_sessions_of_its_dispositifs(organisme, staff_user):
    aif = formation_validee(organisme, staff_user, dispositif=Dispositif.AIF)
    formation_validee(organisme, staff_user, dispositif=Dispositif.ENTREPRISE_PARTICULIER)

    complet, _ = diffuser_partenaire(partenaire=partenaire("france-travail"), nuit=NUIT)

    assert numeros(complet) == {aif.numero}
    assert_valide(complet)


def test_a_night_run_twice_gives_the_same_files(organisme, staff_user):
    formation_validee(organisme, staff_user)
    premier = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    second = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    assert [r.pk for r in premier] == [r.pk for r in second]
    assert [r.sha256 for r in premier] == [r.sha256 for r in second]
    call_command("diffuse", "--partenaire", "site-regional", "--date", NUIT.isoformat())
    assert DiffusionRun.objects.filter(partenaire=partenaire()).count() == 2

    # the same data built again from scratch (another partner with the same offer) gives the same bytes
    jumeau = Partenaire.objects.create(nom="Jumeau", slug="jumeau", exclure_terminees=False)
    complet, _ = diffuser_partenaire(partenaire=jumeau, nuit=NUIT)
    assert complet.sha256 == premier[0].sha256
    assert contenu(complet) == contenu(premier[0])


def test_a_failed_run_marks_nothing_as_sent_and_the_retry_sends_it(organisme, staff_user, monkeypatch):
    formation = formation_validee(organisme, staff_user)
    publier = feeds._publier_fichier
    pannes = iter([True])

    def en_panne(fichier, nom):
        if next(pannes, False):
            raise OSError("disque plein")
        publier(fichier, nom)

    monkeypatch.setattr(feeds, "_publier_fichier", en_panne)
    with pytest.raises(OSError):
        diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    echecs = DiffusionRun.objects.filter(partenaire=partenaire())
    assert {r.statut for r in echecs} == {DiffusionRun.Statut.ECHEC}
    assert all("disque plein" in r.erreur for r in echecs)
    assert not EtatDiffusion.objects.exists()
    fichiers = default_storage.listdir(f"diffusion/{partenaire().slug}")[1]
    assert not [f for f in fichiers if f.startswith(".tmp")]  # no temporary file left behind

    complet, delta = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    assert (complet.tentative, delta.tentative) == (2, 2)
    assert delta.statut == DiffusionRun.Statut.REUSSI and delta.nb_nouvelles == 1
    assert numeros(delta) == {formation.numero}


def test_a_formation_validated_during_a_run_goes_in_the_next_delta(organisme, staff_user, monkeypatch):
    formation_validee(organisme, staff_user)
    pendant = FormationFactory(organisme=organisme, soumise=True)
    SessionFactory(action__formation=pendant)
    transmettre = feeds.sessions_transmises
    une_fois = iter([True])

    def validation_pendant_le_run(*args, **kwargs):
        if next(une_fois, False):
            valider(pendant, staff_user)
        return transmettre(*args, **kwargs)

    monkeypatch.setattr(feeds, "sessions_transmises", validation_pendant_le_run)
    complet, _ = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    pendant.refresh_from_db()
    assert pendant.numero not in numeros(complet)
    assert not EtatDiffusion.objects.filter(formation=pendant).exists()

    _, delta = diffuser_partenaire(partenaire=partenaire(), nuit=LENDEMAIN)
    assert numeros(delta) == {pendant.numero}


def test_a_missing_fragment_is_prepared_only_for_a_formation_still_validated(organisme, gestionnaire, staff_user):
    intacte = formation_validee(organisme, staff_user)
    modifiee = formation_validee(organisme, staff_user)
    PublicationLheo.objects.all().delete()
    session = modifiee.actions.get().sessions.get()
    workflow.marquer_modifie(obj=session, user=gestionnaire.user)

    complet, _ = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)

    assert numeros(complet) == {intacte.numero}
    assert [e["formation"] for e in complet.erreurs] == [modifiee.numero]
    assert PublicationLheo.objects.filter(publication__formation=intacte).exists()


def test_statut_diffusion_tells_each_partner_where_the_session_stands(organisme, staff_user):
    formation = formation_validee(organisme, staff_user)
    session = formation.actions.get().sessions.get()

    avant = {s.partenaire.slug: s for s in statut_diffusion(session)}
    assert avant["site-regional"].statut == "prochaine_nuit"
    assert avant["france-travail"].statut == "non_transmise"
    assert "Entreprise ou particulier" in avant["france-travail"].message

    diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    apres = {s.partenaire.slug: s for s in statut_diffusion(session)}
    assert apres["site-regional"].transmise and apres["site-regional"].nuit == NUIT
    assert apres["site-regional"].recuperee_le is None

    brouillon = SessionFactory(action=formation.actions.get(), etat=Etat.BROUILLON)
    assert {s.statut for s in statut_diffusion(brouillon)} == {"non_transmise"}
    assert "brouillon" in statut_diffusion(brouillon)[0].message


def test_the_nightly_schedule_is_two_in_the_morning_in_paris():
    assert a_deux_heures_paris(datetime.datetime(2026, 1, 15, 1, 0))  # UTC+1 in winter
    assert a_deux_heures_paris(datetime.datetime(2026, 7, 15, 0, 0))  # UTC+2 in summer
    assert not a_deux_heures_paris(datetime.datetime(2026, 1, 15, 2, 0))


def test_a_pending_change_stays_out_of_the_fragment_when_another_session_is_validated(
    organisme, gestionnaire, staff_user
):
    s1 = SessionFactory(action__formation=FormationFactory(organisme=organisme, soumise=True))
    formation = s1.action.formation
    valider(formation, staff_user)
    s1.refresh_from_db()
    fin_validee = s1.fin
    s1.fin = fin_validee + datetime.timedelta(days=10)  # the OF's change, waiting for validation
    s1.save(update_fields=["fin"])
    workflow.marquer_modifie(obj=s1, user=gestionnaire.user)
    s3 = SessionFactory(action=s1.action, etat=Etat.BROUILLON)
    workflow.formation_soumettre(formation=formation, user=gestionnaire.user)

    publication = workflow.session_valider(session=s3, user=staff_user)
    row = publication_lheo_preparer(publication)

    s3.refresh_from_db()
    root = etree.fromstring(row.fragment.encode())
    fins = {
        e.get("numero"): e.find(f"{{{NS_23}}}periode/{{{NS_23}}}fin").text for e in root.iter(f"{{{NS_23}}}session")
    }
    assert fins == {s1.numero: f"{fin_validee:%Y%m%d}", s3.numero: f"{s3.fin:%Y%m%d}"}
    complet, _ = diffuser_partenaire(partenaire=partenaire(), nuit=NUIT)
    assert_valide(complet)
