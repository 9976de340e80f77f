"""The write functions: rules enforced, one transaction, nothing written when refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ofeli.offre import services
from ofeli.offre.models import (
    Action,
    Dispositif,
    Etat,
    Formation,
    ModalitesEnseignement,
    PieceJointe,
    Session,
    SessionContact,
    Source,
)
from tests.factories import (
    PDF_MINIMAL,
    BlocCompetencesFactory,
    CertificationFactory,
    ContactFactory,
    FormacodeFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    OrganismeFormateurFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def pdf(nom="agrement.pdf"):
    return SimpleUploadedFile(nom, PDF_MINIMAL, content_type="application/pdf")


def donnees_formation(**extra):
    return {
        "intitule": "Soudeur TIG",
        "objectif": "Souder à l'arc TIG.",
        "resultats_attendus": "Soudures conformes.",
        "contenu": "Sécurité, procédés, pratique.",
        "certifiante": False,
        "parcours": 1,
        "niveau_entree": 1,
        "niveau_sortie": None,
        "objectif_general": None,
        "url": "",
        **extra,
    }


def donnees_session(**extra):
    return {
        "dispositif": Dispositif.AIF,
        "numero_marche": "",
        "rythme": "Temps plein",
        "public_vise": ["80006"],
        "modalites_enseignement": ModalitesEnseignement.PRESENTIEL,
        "entree_sortie_permanente": False,
        "debut": D(2027, 3, 1),
        "fin": D(2027, 6, 30),
        "etat_recrutement": 1,
        **extra,
    }


class TestFormation:
    def test_creer_enregistre_un_brouillon_avec_ses_codes(self, organisme, saisisseur):
        formacode = FormacodeFactory()
        formation = services.formation_creer(
            organisme=organisme,
            user=saisisseur.user,
            donnees=donnees_formation(formacodes=[formacode], contacts=[saisisseur]),
        )
        assert formation.etat == Etat.BROUILLON
        assert formation.source == Source.OF
        assert list(formation.formacodes.all()) == [formacode]
        assert list(formation.contacts.all()) == [saisisseur]

    def test_certifiante_sans_agrement_refusee_et_rien_n_est_ecrit(self, organisme, saisisseur):
        with pytest.raises(ValidationError) as exc:
            services.formation_creer(
                organisme=organisme,
                user=saisisseur.user,
                donnees=donnees_formation(certifiante=True, certifications=[CertificationFactory()]),
            )
        assert "agrement" in exc.value.message_dict
        assert not Formation.objects.exists()

    def test_certifiante_avec_agrement_joint_en_stockage_prive(self, organisme, saisisseur, stockage_prive):
        formation = services.formation_creer(
            organisme=organisme,
            user=saisisseur.user,
            donnees=donnees_formation(certifiante=True, certifications=[CertificationFactory()]),
            agrement=pdf(),
        )
        piece = formation.pieces_jointes.get()
        assert piece.nature == PieceJointe.Nature.AGREMENT_CERTIFICATION
        assert piece.content_type == "application/pdf"
        assert piece.nom_original == "agrement.pdf"
        assert (stockage_prive / piece.fichier.name).exists()
        assert not piece.fichier.name.endswith("agrement.pdf")  # stored under a random name

    def test_faux_pdf_refuse_et_aucun_fichier_ne_reste(self, organisme, saisisseur, stockage_prive):
        faux = SimpleUploadedFile("agrement.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
        with pytest.raises(ValidationError) as exc:
            services.formation_creer(
                organisme=organisme,
                user=saisisseur.user,
                donnees=donnees_formation(certifiante=True, certifications=[CertificationFactory()]),
                agrement=faux,
            )
        assert "Seuls les fichiers PDF ou les images" in exc.value.message_dict["agrement"][0]
        assert not Formation.objects.exists()
        assert not [p for p in stockage_prive.rglob("*") if p.is_file()]

    def test_echec_apres_ecriture_du_fichier_le_supprime(self, organisme, saisisseur, stockage_prive, monkeypatch):
        def boom(formation_id):
            raise RuntimeError("panne d'index")

        monkeypatch.setattr(services, "_reindexer", boom)
        with pytest.raises(RuntimeError):
            services.formation_creer(
                organisme=organisme,
                user=saisisseur.user,
                donnees=donnees_formation(certifiante=True, certifications=[CertificationFactory()]),
                agrement=pdf(),
            )
        assert not Formation.objects.exists()
        assert not PieceJointe.objects.exists()
        assert not [p for p in stockage_prive.rglob("*") if p.is_file()]

    def test_modifier_refuse_une_version_perimee(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        services.formation_modifier(
            formation=formation, user=saisisseur.user, donnees={"intitule": "Premier"}, version=1
        )
        with pytest.raises(services.ConflitDeVersion) as exc:
            services.formation_modifier(
                formation=formation, user=saisisseur.user, donnees={"intitule": "Second"}, version=1
            )
        assert exc.value.actuel.intitule == "Premier"
        formation.refresh_from_db()
        assert (formation.intitule, formation.version) == ("Premier", 2)

    def test_modifier_une_formation_validee_la_remet_en_validation(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, validee=True)
        services.formation_modifier(
            formation=formation, user=saisisseur.user, donnees={"intitule": "Nouveau titre"}, version=1
        )
        formation.refresh_from_db()
        assert formation.etat == Etat.EN_ATTENTE

    @pytest.mark.parametrize("source", [Source.REGION, Source.AFC, Source.POEC, Source.APPRENTISSAGE])
    def test_modifier_une_formation_d_une_autre_source_est_refuse(self, saisisseur, source):
        formation = FormationFactory(organisme=saisisseur.organisme, source=source)
        with pytest.raises(ValidationError):
            services.formation_modifier(formation=formation, user=saisisseur.user, donnees={"intitule": "X"}, version=1)

    def test_supprimer_ma_demande_jamais_soumise(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        SessionFactory(action__formation=formation)
        services.formation_supprimer_demande(formation=formation, user=saisisseur.user)
        assert not Formation.objects.exists()
        assert not Session.objects.exists()

    def test_supprimer_refuse_une_formation_deja_soumise(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, soumise=True)
        with pytest.raises(ValidationError):
            services.formation_supprimer_demande(formation=formation, user=saisisseur.user)
        formation.etat = Etat.BROUILLON  # sent back to brouillon: it was submitted once all the same
        formation.save()
        with pytest.raises(ValidationError):
            services.formation_supprimer_demande(formation=formation, user=saisisseur.user)
        assert Formation.objects.filter(pk=formation.pk).exists()


class TestSession:
    def test_creer_une_session_cree_son_action(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        lieu = LieuFactory(organisme=saisisseur.organisme)
        session = services.session_creer(
            formation=formation,
            user=saisisseur.user,
            donnees=donnees_session(lieux=[lieu], contacts_inscription=[saisisseur]),
        )
        assert session.action.formation == formation
        assert session.action.dispositif == Dispositif.AIF
        assert list(session.action.lieux.all()) == [lieu]
        assert SessionContact.objects.get(session=session).role == SessionContact.Role.INSCRIPTION
        assert session.etat == Etat.BROUILLON

    @pytest.mark.parametrize(
        ("fin", "acceptee"), [(D(2027, 12, 31), True), (D(2028, 3, 31), True), (D(2028, 4, 1), False)]
    )
    def test_entree_sortie_permanente_bornes(self, saisisseur, fin, acceptee):
        formation = FormationFactory(organisme=saisisseur.organisme)
        donnees = donnees_session(entree_sortie_permanente=True, debut=D(2027, 1, 1), fin=fin)
        if acceptee:
            services.session_creer(formation=formation, user=saisisseur.user, donnees=donnees)
            assert Session.objects.count() == 1
        else:
            with pytest.raises(ValidationError) as exc:
                services.session_creer(formation=formation, user=saisisseur.user, donnees=donnees)
            assert "fin" in exc.value.message_dict
            assert not Action.objects.exists() and not Session.objects.exists()

    def test_a_distance_refuse_pour_un_nda_hors_region(self):
        contact = ContactFactory(organisme=OrganismeFactory(nda="11750009999"))
        formation = FormationFactory(organisme=contact.organisme)
        with pytest.raises(ValidationError) as exc:
            services.session_creer(
                formation=formation,
                user=contact.user,
                donnees=donnees_session(modalites_enseignement=ModalitesEnseignement.A_DISTANCE),
            )
        assert "modalites_enseignement" in exc.value.message_dict
        assert not Session.objects.exists()

    def test_a_distance_accepte_pour_un_nda_de_la_region(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        services.session_creer(
            formation=formation,
            user=saisisseur.user,
            donnees=donnees_session(modalites_enseignement=ModalitesEnseignement.A_DISTANCE),
        )
        assert Session.objects.count() == 1

    def test_hors_region_refuse_sans_convention_accepte_avec(self, commune_en_region):
        contact = ContactFactory(organisme=OrganismeFactory(hors_region=True))
        formation = FormationFactory(organisme=contact.organisme)
        lieu = LieuFactory(organisme=contact.organisme, hors_region=True)
        with pytest.raises(ValidationError) as exc:
            services.session_creer(formation=formation, user=contact.user, donnees=donnees_session(lieux=[lieu]))
        assert "lieux" in exc.value.message_dict
        session = services.session_creer(
            formation=formation,
            user=contact.user,
            donnees=donnees_session(lieux=[lieu]),
            convention=pdf("convention.pdf"),
            commune_convention=commune_en_region,
        )
        piece = session.pieces_jointes.get()
        assert piece.nature == PieceJointe.Nature.CONVENTION_FORMATION
        assert piece.commune_lieu == commune_en_region

    def test_session_d_une_formation_region_refusee(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, region_eos=True)
        with pytest.raises(ValidationError):
            services.session_creer(formation=formation, user=saisisseur.user, donnees=donnees_session())

    def test_session_d_une_formation_apprentissage_acceptee(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, apprentissage=True)
        services.session_creer(formation=formation, user=saisisseur.user, donnees=donnees_session())
        assert Session.objects.count() == 1

    def test_modifier_une_session_validee_la_remet_en_validation(self, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme, action__formation__validee=True)
        donnees = services.donnees_de_session(session)
        donnees["rythme"] = "Mi-temps"
        services.session_modifier(session=session, user=saisisseur.user, donnees=donnees, version=session.version)
        session.refresh_from_db()
        assert session.etat == Etat.EN_ATTENTE
        assert session.action.rythme == "Mi-temps"

    def test_modifier_une_session_refuse_une_version_perimee(self, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        donnees = services.donnees_de_session(session)
        services.session_modifier(session=session, user=saisisseur.user, donnees=donnees, version=1)
        with pytest.raises(services.ConflitDeVersion):
            services.session_modifier(session=session, user=saisisseur.user, donnees=donnees, version=1)


class TestDupliquer:
    def test_copie_tout_sauf_les_dates(self, saisisseur):
        organisme = saisisseur.organisme
        certification = CertificationFactory()
        bloc = BlocCompetencesFactory(certification=certification)
        formation = FormationFactory(organisme=organisme, certifiante=True)
        formation.certifications.add(certification)
        lieu = LieuFactory(organisme=organisme)
        formateur = OrganismeFormateurFactory(organisme=organisme)
        origine = services.session_creer(
            formation=formation,
            user=saisisseur.user,
            donnees=donnees_session(
                numero_marche="M-2027-12",
                lieux=[lieu],
                organisme_formateur=formateur,
                contacts_information=[saisisseur],
                blocs=[bloc],
                places_restantes=8,
                places_date=D(2027, 1, 15),
                inscription_debut=D(2027, 1, 2),
                inscription_fin=D(2027, 2, 20),
            ),
        )
        Session.objects.filter(pk=origine.pk).update(numero="308695S", etat=Etat.VALIDEE)
        origine.refresh_from_db()

        copie = services.session_dupliquer(
            session=origine, user=saisisseur.user, debut=D(2027, 9, 1), fin=D(2027, 12, 15)
        )
        assert copie.pk != origine.pk and copie.action_id != origine.action_id
        assert (copie.debut, copie.fin) == (D(2027, 9, 1), D(2027, 12, 15))
        assert copie.inscription_debut is None and copie.inscription_fin is None
        assert copie.numero is None and copie.etat == Etat.BROUILLON
        assert copie.action.numero_marche == "M-2027-12"
        assert copie.action.organisme_formateur == formateur
        assert list(copie.action.lieux.all()) == [lieu]
        assert list(copie.blocs.all()) == [bloc]
        assert copie.places_restantes == 8
        assert [sc.contact for sc in copie.session_contacts.all()] == [saisisseur]

    def test_les_regles_s_appliquent_aux_nouvelles_dates(self, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        origine = services.session_creer(
            formation=formation,
            user=saisisseur.user,
            donnees=donnees_session(entree_sortie_permanente=True, debut=D(2027, 1, 1), fin=D(2027, 12, 31)),
        )
        with pytest.raises(ValidationError):
            services.session_dupliquer(session=origine, user=saisisseur.user, debut=D(2028, 1, 1), fin=D(2029, 4, 1))
        assert Session.objects.count() == 1


def test_chaque_ecriture_reindexe_la_formation(saisisseur, monkeypatch):
    from ofeli.recherche import index as search_index

    appels = []
    monkeypatch.setattr(search_index, "indexer_formation", appels.append)
    formation = services.formation_creer(
        organisme=saisisseur.organisme, user=saisisseur.user, donnees=donnees_formation()
    )
    session = services.session_creer(formation=formation, user=saisisseur.user, donnees=donnees_session())
    services.session_dupliquer(session=session, user=saisisseur.user, debut=D(2027, 9, 1), fin=D(2027, 10, 1))
    services.formation_modifier(formation=formation, user=saisisseur.user, donnees={"intitule": "Autre"}, version=1)
    assert appels and set(appels) == {formation.pk}
    assert len(appels) >= 4
