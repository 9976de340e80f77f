"""The screens: forms in tabs, errors in French next to the field, sessions list, duplication, submission."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ofeli.offre import services
from ofeli.offre.models import Dispositif, Etat, Formation, PieceJointe, Session
from tests.factories import (
    PDF_MINIMAL,
    CertificationFactory,
    ContactFactory,
    FormacodeFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    OrganismeFormateurFactory,
    RomeFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def formation_post(**extra):
    data = {
        "intitule": "Soudeur TIG",
        "objectif": "Souder à l'arc TIG.",
        "resultats_attendus": "Soudures conformes.",
        "contenu": "Sécurité, procédés, pratique.",
        "parcours": "1",
        "niveau_entree": "1",
        "niveau_sortie": "",
        "objectif_general": "",
        "url": "",
        "certifications": "",
        "formacodes": "",
        "nsf": "",
        "romes": "",
    }
    data.update(extra)
    return data


def session_post(**extra):
    data = {
        "dispositif": Dispositif.AIF,
        "numero_marche": "",
        "public_vise": ["80006"],
        "modalites_enseignement": "0",
        "rythme": "Temps plein",
        "entree_sortie_permanente": "0",
        "debut": "2027-03-01",
        "fin": "2027-06-30",
        "etat_recrutement": "1",
    }
    data.update(extra)
    return data


class TestListe:
    def test_liste_des_formations_de_l_of(self, client_saisisseur, saisisseur):
        mienne = FormationFactory(organisme=saisisseur.organisme)
        autre = FormationFactory()
        html = client_saisisseur.get(reverse("offre:formations_liste")).content.decode()
        assert mienne.intitule in html and autre.intitule not in html
        assert "Nouvelle formation" in html
        assert reverse("offre:formation_detail", args=[mienne.pk]) in html

    def test_la_liste_compte_les_sessions_de_chaque_formation(self, client_saisisseur, saisisseur):
        deux = FormationFactory(organisme=saisisseur.organisme)
        SessionFactory(action__formation=deux)
        SessionFactory(action__formation=deux)
        aucune = FormationFactory(organisme=saisisseur.organisme)
        page = client_saisisseur.get(reverse("offre:formations_liste")).context["formations"]
        assert {f.pk: f.nb_sessions for f in page} == {deux.pk: 2, aucune.pk: 0}

    def test_un_lecteur_n_a_pas_le_bouton_nouvelle_formation(self, client, lecteur):
        client.force_login(lecteur.user)
        assert "Nouvelle formation" not in client.get(reverse("offre:formations_liste")).content.decode()


class TestFormationForm:
    def test_formulaire_en_onglets(self, client_saisisseur):
        html = client_saisisseur.get(reverse("offre:formation_creer")).content.decode()
        for titre in ("Description", "Certification", "Domaines et métiers", "Niveaux et parcours"):
            assert titre in html
        assert "data-ofeli-onglets" in html
        assert 'enctype="multipart/form-data"' in html

    def test_creer_une_formation(self, client_saisisseur, saisisseur):
        formacode = FormacodeFactory(code="22454")
        rome = RomeFactory(code="H2913")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"),
            formation_post(formacodes="22454", romes="h2913", contacts=[saisisseur.pk]),
        )
        formation = Formation.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("offre:formation_detail", args=[formation.pk])
        assert formation.organisme == saisisseur.organisme
        assert list(formation.formacodes.all()) == [formacode]
        assert list(formation.romes.all()) == [rome]

    def test_erreurs_en_francais_pres_du_champ_et_valeurs_conservees(self, client_saisisseur):
        response = client_saisisseur.post(
            reverse("offre:formation_creer"), formation_post(objectif="", formacodes="99999", intitule="Mon titre")
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Ce champ est obligatoire." in html
        assert "Code Formacode inconnu : 99999." in html
        assert 'value="Mon titre"' in html
        assert 'value="99999"' in html
        assert 'id="id_objectif-erreurs"' in html
        assert not Formation.objects.exists()

    def test_certifiante_exige_l_agrement(self, client_saisisseur):
        CertificationFactory(code="RNCP35001")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"), formation_post(certifiante="on", certifications="RNCP35001")
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="id_agrement-erreurs"' in html
        assert "copie de l&#x27;agrément délivré par l&#x27;organisme valideur" in html
        assert not Formation.objects.exists()

    def test_certifiante_avec_agrement(self, client_saisisseur):
        CertificationFactory(code="RS5001", type="RS")
        fichier = SimpleUploadedFile("agrément.pdf", PDF_MINIMAL, content_type="application/pdf")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"),
            formation_post(certifiante="on", certifications="rs5001", agrement=fichier),
        )
        assert response.status_code == 302
        formation = Formation.objects.get()
        assert formation.pieces_jointes.get().nature == PieceJointe.Nature.AGREMENT_CERTIFICATION

    def test_piece_jointe_verifiee_par_son_contenu_pas_par_son_nom(self, client_saisisseur):
        CertificationFactory(code="RNCP35002")
        faux = SimpleUploadedFile("agrement.pdf", b"<html>pas un pdf</html>", content_type="application/pdf")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"),
            formation_post(certifiante="on", certifications="RNCP35002", agrement=faux),
        )
        assert response.status_code == 200
        assert "Seuls les fichiers PDF ou les images" in response.content.decode()
        assert not Formation.objects.exists()

    def test_une_image_nommee_txt_est_acceptee(self, client_saisisseur):
        CertificationFactory(code="RNCP35003")
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        image = SimpleUploadedFile("scan.txt", png, content_type="text/plain")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"),
            formation_post(certifiante="on", certifications="RNCP35003", agrement=image),
        )
        assert response.status_code == 302
        assert PieceJointe.objects.get().content_type == "image/png"

    def test_piece_jointe_trop_lourde_refusee(self, client_saisisseur, settings):
        settings.OFELI_MAX_ATTACHMENT_SIZE = 50
        CertificationFactory(code="RNCP35004")
        gros = SimpleUploadedFile("agrement.pdf", PDF_MINIMAL + b"0" * 100, content_type="application/pdf")
        response = client_saisisseur.post(
            reverse("offre:formation_creer"),
            formation_post(certifiante="on", certifications="RNCP35004", agrement=gros),
        )
        assert "dépasse la taille maximale de" in response.content.decode()
        assert not Formation.objects.exists()

    def test_modification_concurrente_refusee_et_changements_de_l_autre_montres(self, client, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, intitule="Titre initial")
        autre = ContactFactory(organisme=saisisseur.organisme)
        url = reverse("offre:formation_modifier", args=[formation.pk])
        client.force_login(autre.user)
        assert client.post(url, formation_post(intitule="Titre de l'autre", version="1")).status_code == 302
        client.force_login(saisisseur.user)
        response = client.post(url, formation_post(intitule="Mon titre", version="1"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "a enregistré des modifications pendant que vous saisissiez" in html
        assert "Titre de l&#x27;autre" in html and 'value="Mon titre"' in html
        assert 'name="version" value="2"' in html
        formation.refresh_from_db()
        assert formation.intitule == "Titre de l'autre"
        # Saving again, knowingly, replaces the other's values.
        assert client.post(url, formation_post(intitule="Mon titre", version="2")).status_code == 302
        formation.refresh_from_db()
        assert formation.intitule == "Mon titre"

    def test_detail_montre_la_date_de_derniere_mise_a_jour(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        html = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert "Date de dernière mise à jour" in html
        assert formation.updated_at.astimezone().strftime("%d/%m/%Y") in html

    def test_une_session_entierement_a_distance_sans_lieu_affiche_a_distance(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        SessionFactory(action__formation=formation, action__modalites_enseignement=2)
        html = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert "<td>À distance</td>" in html
        assert f"<td>{saisisseur.organisme.ville}</td>" not in html

    def test_une_session_sans_lieu_en_presentiel_affiche_la_ville_de_l_organisme(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        SessionFactory(action__formation=formation, action__modalites_enseignement=0)
        html = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert f"<td>{saisisseur.organisme.ville}</td>" in html


class TestSupprimerMaDemande:
    def test_demande_jamais_soumise(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        url = reverse("offre:formation_supprimer", args=[formation.pk])
        detail = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert "Supprimer ma demande" in detail
        assert client_saisisseur.get(url).status_code == 200
        assert client_saisisseur.post(url).status_code == 302
        assert not Formation.objects.exists()

    def test_formation_deja_soumise(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme, soumise=True)
        detail = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert "Supprimer ma demande" not in detail
        client_saisisseur.post(reverse("offre:formation_supprimer", args=[formation.pk]))
        assert Formation.objects.filter(pk=formation.pk).exists()


class TestSessionForm:
    def test_onglets_dont_dates_de_la_session(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        html = client_saisisseur.get(reverse("offre:session_creer", args=[formation.pk])).content.decode()
        assert "Dates de la session" in html
        assert "Entrée sortie permanente" in html
        assert "Dispositif et public" in html

    def test_creer_une_session(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        lieu = LieuFactory(organisme=saisisseur.organisme)
        formateur = OrganismeFormateurFactory(organisme=saisisseur.organisme)
        response = client_saisisseur.post(
            reverse("offre:session_creer", args=[formation.pk]),
            session_post(
                lieux=[lieu.pk],
                organisme_formateur=formateur.pk,
                contacts_information=[saisisseur.pk],
                places_restantes="5",
                places_date="2027-01-10",
                prix_total_ttc="1 250,50",
            ),
        )
        assert response.status_code == 302, response.content.decode()
        session = Session.objects.get()
        assert session.action.prix_total_ttc == pytest.approx(1250.50)
        assert session.places_restantes == 5

    def test_lieux_d_un_autre_of_refuses(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        lieu_etranger = LieuFactory()
        response = client_saisisseur.post(
            reverse("offre:session_creer", args=[formation.pk]), session_post(lieux=[lieu_etranger.pk])
        )
        assert response.status_code == 200
        assert not Session.objects.exists()

    @pytest.mark.parametrize(("fin", "acceptee"), [("2028-03-31", True), ("2028-04-01", False)])
    def test_entree_sortie_permanente(self, client_saisisseur, saisisseur, fin, acceptee):
        formation = FormationFactory(organisme=saisisseur.organisme)
        response = client_saisisseur.post(
            reverse("offre:session_creer", args=[formation.pk]),
            session_post(entree_sortie_permanente="1", debut="2027-01-01", fin=fin),
        )
        if acceptee:
            assert response.status_code == 302
        else:
            html = response.content.decode()
            assert 'id="id_fin-erreurs"' in html
            assert "vous pouvez aller jusqu&#x27;au 31/03/AAAA+1" in html
            assert 'value="2028-04-01"' in html
            assert not Session.objects.exists()

    def test_a_distance_refuse_pour_un_of_declare_ailleurs(self, client):
        contact = ContactFactory(organisme=OrganismeFactory(nda="11750004321"))
        formation = FormationFactory(organisme=contact.organisme)
        client.force_login(contact.user)
        response = client.post(
            reverse("offre:session_creer", args=[formation.pk]), session_post(modalites_enseignement="2")
        )
        html = response.content.decode()
        assert 'id="id_modalites_enseignement-erreurs"' in html
        assert "Seuls les organismes de formation déclarés auprès de la DREETS" in html
        assert not Session.objects.exists()

    def test_hors_region_avec_convention(self, client, commune_en_region):
        contact = ContactFactory(organisme=OrganismeFactory(hors_region=True))
        formation = FormationFactory(organisme=contact.organisme)
        lieu = LieuFactory(organisme=contact.organisme, hors_region=True)
        client.force_login(contact.user)
        url = reverse("offre:session_creer", args=[formation.pk])
        response = client.post(url, session_post(lieux=[lieu.pk]))
        assert 'id="id_lieux-erreurs"' in response.content.decode()
        convention = SimpleUploadedFile("convention.pdf", PDF_MINIMAL, content_type="application/pdf")
        response = client.post(
            url, session_post(lieux=[lieu.pk], convention=convention, commune_convention=commune_en_region.pk)
        )
        assert response.status_code == 302
        assert Session.objects.get().pieces_jointes.get().commune_lieu == commune_en_region

    def test_modification_concurrente_de_session(self, client_saisisseur, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        url = reverse("offre:session_modifier", args=[session.pk])
        debut = session.debut.isoformat()
        fin = session.fin.isoformat()
        assert (
            client_saisisseur.post(url, session_post(rythme="Soirs", debut=debut, fin=fin, version="1")).status_code
            == 302
        )
        response = client_saisisseur.post(url, session_post(rythme="Week-ends", debut=debut, fin=fin, version="1"))
        html = response.content.decode()
        assert "a enregistré des modifications pendant que vous saisissiez" in html
        assert "Soirs" in html
        session.refresh_from_db()
        assert session.action.rythme == "Soirs"


class TestListeDesSessions:
    def test_colonnes_du_guide(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        lieu = LieuFactory(organisme=saisisseur.organisme, ville="Bourges", departement="18")
        services.session_creer(
            formation=formation,
            user=saisisseur.user,
            donnees={
                "dispositif": Dispositif.ENTREPRISE_PARTICULIER,
                "rythme": "Temps plein",
                "public_vise": ["83056"],
                "debut": D(2027, 1, 1),
                "fin": D(2027, 12, 31),
                "entree_sortie_permanente": True,
                "lieux": [lieu],
            },
        )
        html = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        for colonne in (
            "Référence",
            "Date de début",
            "Date de fin",
            "Dpt",
            "Ville",
            "Dispositif",
            "Numéro de marché",
            "État",
            "OF Formateur",
        ):
            assert f'<th scope="col">{colonne}</th>' in html
        assert "01/01/2027" in html and "31/12/2027" in html
        assert "Bourges" in html and "<td>18</td>" in html
        assert "Entreprise ou particulier" in html
        assert "Brouillon" in html
        assert "Dupliquer" in html
        assert "—" in html  # no Carif number before validation


class TestDupliquer:
    def test_parcours_de_duplication(self, client_saisisseur, saisisseur):
        session = SessionFactory(
            action__formation__organisme=saisisseur.organisme, places_restantes=4, places_date=D(2026, 11, 2)
        )
        url = reverse("offre:session_dupliquer", args=[session.pk])
        html = client_saisisseur.get(url).content.decode()
        assert "Tous les éléments de la session seront repris sauf les dates" in html
        assert "vérifier les lieux, les places et les contacts" in html
        response = client_saisisseur.post(url, {"debut": "2027-09-01", "fin": "2027-12-01"})
        copie = Session.objects.exclude(pk=session.pk).get()
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("offre:session_modifier", args=[copie.pk]))
        page = client_saisisseur.get(response["Location"]).content.decode()
        assert "vérifier les lieux, les places et les contacts" in page
        assert copie.places_restantes == 4

    def test_dates_obligatoires(self, client_saisisseur, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        response = client_saisisseur.post(reverse("offre:session_dupliquer", args=[session.pk]), {})
        assert "Ce champ est obligatoire." in response.content.decode()
        assert Session.objects.count() == 1


class TestSoumettre:
    def test_soumettre_la_formation_et_ses_sessions(self, client_saisisseur, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        formation = session.action.formation
        detail = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
        assert "Soumettre à validation" in detail
        response = client_saisisseur.post(reverse("offre:formation_soumettre", args=[formation.pk]))
        assert response.status_code == 302
        formation.refresh_from_db()
        session.refresh_from_db()
        assert formation.etat == Etat.EN_ATTENTE and session.etat == Etat.EN_ATTENTE

    def test_sans_session_la_soumission_est_refusee(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        client_saisisseur.post(reverse("offre:formation_soumettre", args=[formation.pk]))
        formation.refresh_from_db()
        assert formation.etat == Etat.BROUILLON

    def test_soumettre_exige_post(self, client_saisisseur, saisisseur):
        formation = FormationFactory(organisme=saisisseur.organisme)
        assert client_saisisseur.get(reverse("offre:formation_soumettre", args=[formation.pk])).status_code == 405


class TestArchiver:
    def test_archiver_une_session(self, client_saisisseur, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        html = client_saisisseur.get(reverse("offre:session_detail", args=[session.pk])).content.decode()
        assert "Archiver la session" in html
        assert client_saisisseur.post(reverse("offre:session_archiver", args=[session.pk])).status_code == 302
        session.refresh_from_db()
        assert session.etat == Etat.ARCHIVE_OF

    def test_archiver_une_formation(self, client_saisisseur, saisisseur):
        session = SessionFactory(action__formation__organisme=saisisseur.organisme)
        formation = session.action.formation
        client_saisisseur.post(reverse("offre:formation_archiver", args=[formation.pk]))
        formation.refresh_from_db()
        session.refresh_from_db()
        assert formation.etat == Etat.ARCHIVE_OF and session.etat == Etat.ARCHIVE_OF

    def test_un_lecteur_n_archive_pas(self, client, lecteur):
        session = SessionFactory(action__formation__organisme=lecteur.organisme)
        client.force_login(lecteur.user)
        assert client.post(reverse("offre:session_archiver", args=[session.pk])).status_code == 403
        session.refresh_from_db()
        assert session.etat == Etat.BROUILLON


def test_nouvelle_session_d_une_formation_validee_soumise_seule(client_saisisseur, saisisseur):
    formation = FormationFactory(organisme=saisisseur.organisme, validee=True)
    SessionFactory(action__formation=formation)
    detail = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
    assert "Soumettre à validation" not in detail
    nouvelle = SessionFactory(action__formation=formation, etat=Etat.BROUILLON)
    client_saisisseur.post(reverse("offre:session_soumettre", args=[nouvelle.pk]))
    nouvelle.refresh_from_db()
    formation.refresh_from_db()
    assert nouvelle.etat == Etat.EN_ATTENTE
    assert formation.etat == Etat.VALIDEE
