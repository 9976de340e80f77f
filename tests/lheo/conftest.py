import datetime
from decimal import Decimal

import pytest

from ofeli.offre.models import Dispositif, Etat, ModalitesEnseignement, SessionContact
from ofeli.referentiels.models import NSF, BlocCompetences, Certification, Formacode, Rome
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFormateurFactory,
    SessionFactory,
)


@pytest.fixture
def formation_complete(organisme):
    """A formation using every field the LHEO writer knows, two actions, three sessions."""
    organisme.nom = "Soudure Centre"
    organisme.telephone = "02 38 00 00 00"
    organisme.site_web = "https://soudure.example.fr"
    organisme.description = "Organisme spécialisé dans les métiers du soudage."
    organisme.code_uai = "0450000A"
    organisme.numero = "24_OF_0001"
    organisme.save()
    contact = ContactFactory(organisme=organisme, user__telephone="06 00 00 00 01", user__civilite="mme")
    certification = Certification.objects.create(type="RNCP", code="RNCP35320", intitule="Soudeur")
    bloc = BlocCompetences.objects.create(
        certification=certification, code="RNCP35320BC01", libelle="Souder à l'arc électrode enrobée"
    )
    rs = Certification.objects.create(type="RS", code="RS5432", intitule="Habilitation")
    formation = FormationFactory(
        organisme=organisme,
        etat=Etat.VALIDEE,
        numero="900001F",
        intitule="Soudeur — TIG & MIG <niveau 1>",
        certifiante=True,
        niveau_entree=13,
        niveau_sortie=13,
        objectif_general=6,
        parcours=2,
        url="https://soudure.example.fr/soudeur",
        extras={
            "lheo": [
                {
                    "tag": "extras",
                    "attrs": {"info": "partenaire"},
                    "text": "",
                    "tail": "",
                    "children": [{"tag": "extra", "attrs": {"info": "code"}, "text": "X1", "children": [], "tail": ""}],
                }
            ]
        },
    )
    formation.formacodes.add(Formacode.objects.create(code="23054", libelle="Soudage", version="V14"))
    formation.nsf.add(NSF.objects.create(code="254", libelle="Structures métalliques"))
    formation.romes.add(Rome.objects.create(code="H2913", libelle="Soudage manuel"))
    formation.certifications.add(certification, rs)
    formation.contacts.add(contact)
    lieu = LieuFactory(organisme=organisme, siret="12345678901234", telephone="02 48 00 00 00")
    formateur = OrganismeFormateurFactory(organisme=organisme)
    action = ActionFactory(
        formation=formation,
        numero="900001A",
        etat=Etat.VALIDEE,
        dispositif=Dispositif.AIF,
        numero_marche="M-2026-01",
        public_vise=["80006", "82044"],
        info_public_vise="Demandeurs d'emploi et salariés",
        niveau_entree_obligatoire=True,
        modalites_alternance="",
        modalites_enseignement=ModalitesEnseignement.MIXTE,
        conditions_specifiques="",
        prise_en_charge_frais_possible=True,
        entree_sortie_permanente=True,
        organisme_formateur=formateur,
        prix_total_ttc=Decimal("4500.00"),
        prix_horaire_ttc=Decimal("12.50"),
        detail_conditions_prise_en_charge="Prise en charge AIF possible.",
        duree_indicative="3 mois",
        nombre_heures_centre=300,
        nombre_heures_entreprise=70,
        nombre_heures_total=370,
        financeurs=["4", {"code": "2", "nb_places": 12}],
        modalites_recrutement="Entretien individuel",
        modalites_pedagogiques="Plateau technique",
        url="https://soudure.example.fr/soudeur/aif",
        acces_handicapes="Locaux accessibles",
    )
    action.lieux.add(lieu)
    session = SessionFactory(
        action=action,
        numero="308695S",
        etat=Etat.VALIDEE,
        debut=datetime.date(2026, 1, 5),
        fin=datetime.date(2026, 4, 30),
        inscription_debut=datetime.date(2025, 11, 1),
        inscription_fin=datetime.date(2025, 12, 20),
        etat_recrutement=1,
        places_restantes=4,
        places_date=datetime.date(2025, 12, 1),
        adresse_inscription=lieu,
        modalites_inscription="Sur dossier",
        url="https://soudure.example.fr/s1",
    )
    session.blocs.add(bloc)
    SessionContact.objects.create(session=session, contact=contact, role=SessionContact.Role.INSCRIPTION)
    SessionFactory(
        action=action, etat=Etat.BROUILLON, debut=datetime.date(2020, 1, 6), fin=datetime.date(2020, 6, 30)
    )  # ended long ago, not numbered yet
    action2 = ActionFactory(formation=formation, etat=Etat.BROUILLON, dispositif=Dispositif.CONTRAT_PRO)
    SessionFactory(action=action2, etat=Etat.BROUILLON)
    ActionFactory(formation=formation)  # an action without session: LHEO cannot carry it
    return formation


def exporter(queryset=None, **kwargs) -> bytes:
    """The LHEO document of `queryset` (every formation by default), as bytes."""
    import io

    from ofeli.lheo.writer import write_formations
    from ofeli.offre.models import Formation

    output = io.BytesIO()
    write_formations(output, Formation.objects.all() if queryset is None else queryset, **kwargs)
    return output.getvalue()
