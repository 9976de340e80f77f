"""Each rule of the guide, with an accepted and a refused case."""

import datetime

import pytest

from ofeli.core.region import current_region
from ofeli.offre import rules
from ofeli.offre.models import ModalitesEnseignement, Source
from tests.factories import (
    BlocCompetencesFactory,
    CertificationFactory,
    LieuFactory,
    OrganismeFactory,
    PieceJointeFactory,
)

D = datetime.date


def test_fin_avant_debut_est_refusee():
    assert rules.regle_dates(D(2027, 3, 1), D(2027, 2, 28)) == {
        "fin": ["La date de fin doit être postérieure ou égale à la date de début."]
    }


def test_fin_egale_au_debut_est_acceptee():
    assert rules.regle_dates(D(2027, 3, 1), D(2027, 3, 1)) == {}


class TestEntreeSortiePermanente:
    def test_annee_civile_acceptee(self):
        assert rules.regle_entree_sortie_permanente(True, D(2027, 1, 1), D(2027, 12, 31)) == {}

    def test_fin_au_31_mars_suivant_acceptee(self):
        assert rules.regle_entree_sortie_permanente(True, D(2027, 1, 1), D(2028, 3, 31)) == {}

    def test_fin_au_1er_avril_suivant_refusee_avec_l_explication_du_guide(self):
        erreurs = rules.regle_entree_sortie_permanente(True, D(2027, 1, 1), D(2028, 4, 1))
        assert list(erreurs) == ["fin"]
        message = erreurs["fin"][0]
        assert "31/12/2027" in message and "31/03/2028" in message
        assert "vous pouvez aller jusqu'au 31/03/AAAA+1" in message

    def test_debut_autre_que_1er_janvier_refuse(self):
        erreurs = rules.regle_entree_sortie_permanente(True, D(2027, 2, 1), D(2027, 12, 31))
        assert "01/01/2027" in erreurs["debut"][0]

    def test_fin_avant_31_decembre_refusee(self):
        assert "fin" in rules.regle_entree_sortie_permanente(True, D(2027, 1, 1), D(2027, 6, 30))

    def test_sans_entree_sortie_permanente_les_dates_sont_libres(self):
        assert rules.regle_entree_sortie_permanente(False, D(2027, 2, 14), D(2028, 6, 30)) == {}


@pytest.mark.django_db
class TestADistance:
    def test_of_declare_dans_la_region_peut_saisir_a_distance(self):
        organisme = OrganismeFactory(nda=f"{current_region().code}450001234")
        assert rules.regle_a_distance(ModalitesEnseignement.A_DISTANCE, organisme) == {}

    def test_of_declare_ailleurs_est_refuse_avec_le_texte_du_guide(self):
        organisme = OrganismeFactory(nda="11750001234")
        erreurs = rules.regle_a_distance(ModalitesEnseignement.A_DISTANCE, organisme)
        message = erreurs["modalites_enseignement"][0]
        assert "Seuls les organismes de formation déclarés auprès de la DREETS" in message
        assert current_region().nom in message

    def test_of_declare_ailleurs_peut_saisir_du_presentiel_ou_du_mixte(self):
        organisme = OrganismeFactory(nda="11750001234")
        assert rules.regle_a_distance(ModalitesEnseignement.PRESENTIEL, organisme) == {}
        assert rules.regle_a_distance(ModalitesEnseignement.MIXTE, organisme) == {}


@pytest.mark.django_db
class TestHorsRegion:
    def test_un_lieu_en_region_suffit(self):
        organisme = OrganismeFactory(hors_region=True)
        lieux = [LieuFactory(organisme=organisme, hors_region=True), LieuFactory(organisme=organisme)]
        assert rules.regle_hors_region(lieux) == {}

    def test_tous_les_lieux_hors_region_sans_convention_refuse(self):
        organisme = OrganismeFactory(hors_region=True)
        erreurs = rules.regle_hors_region([LieuFactory(organisme=organisme, hors_region=True)])
        assert "Carif-Oref du lieu de déroulement de la formation" in erreurs["lieux"][0]
        assert "convention de formation" in erreurs["lieux"][0]

    def test_convention_nommant_un_lieu_en_region_accepte(self, commune_en_region):
        organisme = OrganismeFactory(hors_region=True)
        convention = PieceJointeFactory(organisme=organisme, convention=True, commune_lieu=commune_en_region)
        assert rules.regle_hors_region([LieuFactory(organisme=organisme, hors_region=True)], [convention]) == {}

    def test_convention_nommant_un_lieu_hors_region_ne_suffit_pas(self, commune_hors_region):
        organisme = OrganismeFactory(hors_region=True)
        convention = PieceJointeFactory(organisme=organisme, convention=True, commune_lieu=commune_hors_region)
        erreurs = rules.regle_hors_region([LieuFactory(organisme=organisme, hors_region=True)], [convention])
        assert "lieux" in erreurs

    def test_autre_piece_jointe_ne_tient_pas_lieu_de_convention(self, commune_en_region):
        organisme = OrganismeFactory(hors_region=True)
        piece = PieceJointeFactory(organisme=organisme, agrement=True, commune_lieu=commune_en_region)
        assert "lieux" in rules.regle_hors_region([LieuFactory(organisme=organisme, hors_region=True)], [piece])


@pytest.mark.django_db
class TestCertifiante:
    def test_certifiante_sans_certification_refusee(self):
        assert "certifications" in rules.regle_certifiante(True, [])

    def test_certifiante_avec_certification_acceptee(self):
        assert rules.regle_certifiante(True, [CertificationFactory()]) == {}

    def test_agrement_exige(self):
        erreurs = rules.regle_certifiante_agrement(True, a_un_agrement=False)
        assert "copie de l'agrément délivré par l'organisme valideur" in erreurs["agrement"][0]

    def test_agrement_fourni_accepte(self):
        assert rules.regle_certifiante_agrement(True, a_un_agrement=True) == {}

    def test_bloc_d_une_autre_certification_refuse(self):
        certification = CertificationFactory()
        bloc_etranger = BlocCompetencesFactory()
        assert rules.regle_blocs([BlocCompetencesFactory(certification=certification)], [certification]) == {}
        assert bloc_etranger.code in rules.regle_blocs([bloc_etranger], [certification])["blocs"][0]


class TestSources:
    def test_offre_propre_tout_est_permis(self):
        assert rules.regle_source_formation(Source.OF) == {}
        assert rules.regle_source_session(Source.OF) == {}

    @pytest.mark.parametrize("source", [Source.APPRENTISSAGE, Source.SCOLAIRE])
    def test_apprentissage_et_scolaire_sessions_seulement(self, source):
        assert rules.regle_source_session(source) == {}
        message = rules.regle_source_formation(source)["__all__"][0]
        assert current_region().gip.email in message

    @pytest.mark.parametrize("source", [Source.REGION, Source.AFC, Source.POEC])
    def test_sources_en_lecture_seule(self, source):
        assert rules.regle_source_formation(source)
        assert rules.regle_source_session(source)

    def test_texte_region_renvoie_au_referent_territorial(self):
        assert "référent territorial" in rules.message_source(Source.REGION)

    def test_texte_afc_donne_l_adresse_de_france_travail(self):
        adresse = current_region().contacts_externes["france_travail_afc"]
        assert adresse in rules.message_source(Source.AFC)


def test_places_restantes_demandent_leur_date():
    assert "places_date" in rules.regle_places(12, None)
    assert rules.regle_places(12, D(2027, 1, 5)) == {}
