"""manage.py seed_demo [--logins]: the demo data of `make run`, created through the application's own functions.

Idempotent: every piece is looked up first (staff user by e-mail, organismes by SIRET, lieux by name, formations
by title, the pending request by SIRET) and only what is missing is created, so a second run adds nothing.

What it creates:
- the referentials when the database has none (the shipped files, and the project's Formacode and RNCP/RS
  samples);
- one member of the GIP's équipe offre;
- two organismes, each through a « Créer un compte » request accepted by the staff member: one whose NDA was
  declared in the configured region, one registered in another region (with its training agreement), each with a
  contact of each right (gérer, saisir, consulter) and lieux in the region;
- formations and sessions in every state (brouillon, en attente de validation, en attente complément
  d'information, validée, non diffusée, Archive OF), moved there by the workflow's functions
  (ofeli.validation.workflow); the validated one is certifiante (an RNCP sample certification, its blocs de
  compétences on the sessions, the certifying body's agreement attached);
- one pending account request.

Every demo account has the password DEMO_PASSWORD; `--logins` prints them. Refused in production.
"""

import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from ofeli.accounts import rules as account_rules
from ofeli.accounts.models import Civilite, DemandeCompte, User
from ofeli.accounts.services import demande_compte_accepter, demande_compte_creer, utilisateur_mot_de_passe_definir
from ofeli.core.region import current_region
from ofeli.offre.models import Dispositif, Formation, Niveau, Parcours
from ofeli.offre.services import formation_creer, session_creer
from ofeli.organismes.models import Contact, Lieu, Organisme
from ofeli.organismes.services import contact_inviter, lieu_creer
from ofeli.referentiels.models import NSF, BlocCompetences, Certification, Commune, Formacode, Rome
from ofeli.validation import workflow

DEMO_PASSWORD = "Demo-Ofeli-2026"  # noqa: S105  # nosec B105  # demo accounts only, refused in production
DOMAINE = "demo.ofeli.example"
STAFF = {"email": f"equipe.offre@{DOMAINE}", "first_name": "Camille", "last_name": "Lefèvre"}

# A minimal PDF: the hors-région organisme's training agreement, the certifying body's agreement.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def siret(n: int) -> str:
    """A SIRET whose SIREN and whole number pass the Luhn check."""
    siren = f"{n:08d}" + luhn.calc_check_digit(f"{n:08d}")
    body = f"{siren}0001"
    return body + luhn.calc_check_digit(body)


def _commune_principale(departement: str) -> Commune:
    commune = Commune.objects.filter(departement=departement, actuelle=True).order_by("-population").first()
    if commune is None:
        raise CommandError(f"Aucune commune du département {departement} : lancez manage.py load_referentiels.")
    return commune


def _autre_region():
    """An organisme registered elsewhere: a region that is not the configured one, with an address there."""
    if current_region().code != "11":
        return {"nda_prefixe": "11", "code_postal": "75011", "ville": "Paris", "code_insee": "75111"}
    return {"nda_prefixe": "84", "code_postal": "69003", "ville": "Lyon", "code_insee": "69383"}


class Command(BaseCommand):
    help = "Crée les données de démonstration (idempotent) : équipe offre, deux organismes, leur offre, une demande."

    def add_arguments(self, parser):
        parser.add_argument("--logins", action="store_true", help="affiche les identifiants de démonstration")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo crée des comptes aux mots de passe connus : interdit en production.")
        self.crees = 0
        self.region = current_region()
        self._referentiels()
        with transaction.atomic():
            staff = self._staff()
            departements = self.region.departements
            ville_of = _commune_principale(departements[0])
            lieux_communes = [_commune_principale(d) for d in departements[:3]]
            autre = _autre_region()
            of_region = self._organisme(
                staff,
                raison_sociale="Institut Ligérien de Formation",
                siret=siret(41_234_567),
                nda=f"{self.region.code}450012345",
                commune=ville_of,
                contacts=[
                    ("gestion.ilf", "Claire", "Martin", Civilite.MADAME),
                    ("saisie.ilf", "Julien", "Bernard", Civilite.MONSIEUR),
                    ("consultation.ilf", "Sophie", "Petit", Civilite.MADAME),
                ],
                lieux=lieux_communes,
            )
            of_autre = self._organisme(
                staff,
                raison_sociale="Compétences Nationales Formation",
                siret=siret(52_345_678),
                nda=f"{autre['nda_prefixe']}750067890",
                adresse=autre,
                contacts=[
                    ("gestion.cnf", "Marc", "Dubois", Civilite.MONSIEUR),
                    ("saisie.cnf", "Nadia", "Roux", Civilite.MADAME),
                    ("consultation.cnf", "Paul", "Girard", Civilite.MONSIEUR),
                ],
                lieux=lieux_communes[:1],
            )
            self._offre(of_region, staff)
            self._offre_autre(of_autre, staff)
            self._demande_en_attente()
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration prêtes ({self.crees} élément(s) créé(s), le reste existait déjà)."
            )
        )
        if options["logins"]:
            self._afficher_logins()

    # --- set-up ----------------------------------------------------------------------------------------------------

    def _referentiels(self):
        if not Commune.objects.exists() or not NSF.objects.exists() or not Rome.objects.exists():
            call_command("load_referentiels", stdout=self.stdout)
        if not Formacode.objects.exists() or not Certification.objects.exists():
            call_command("load_referentiels", "--only", "formacode,rncp", "--samples", stdout=self.stdout)

    def _staff(self) -> User:
        user = User.objects.filter(email__iexact=STAFF["email"]).first()
        if user is None:
            user = User.objects.create_user(
                email=STAFF["email"], first_name=STAFF["first_name"], last_name=STAFF["last_name"], is_staff=True
            )
            utilisateur_mot_de_passe_definir(user=user, password=DEMO_PASSWORD)
            self.crees += 1
        return user

    def _organisme(self, staff, *, raison_sociale, siret, nda, contacts, lieux, commune=None, adresse=None):
        organisme = Organisme.objects.filter(siret=siret).first()
        gestion, saisie, consultation = contacts
        if organisme is None:
            if commune is not None:
                adresse = {
                    "code_postal": commune.codes_postaux[0],
                    "ville": commune.nom,
                    "code_insee": commune.code_insee,
                }
            resolue, erreurs = account_rules.adresse_resoudre(
                code_postal=adresse["code_postal"], ville=adresse["ville"], code_insee=adresse["code_insee"]
            )
            if erreurs:
                raise CommandError(f"Adresse de démonstration invalide : {erreurs}")
            login, prenom, nom, civilite = gestion
            demande = demande_compte_creer(
                donnees={
                    "nda": nda,
                    "siret": siret,
                    "raison_sociale": raison_sociale,
                    "ligne1": "12 rue de la République",
                    "code_postal": adresse["code_postal"],
                    "ville": adresse["ville"],
                    "adresse": resolue,
                    "civilite": civilite,
                    "nom": nom,
                    "prenom": prenom,
                    "email": f"{login}@{DOMAINE}",
                    "telephone": "02 38 00 00 00",
                },
                convention=ContentFile(DEMO_PDF, name="convention.pdf") if resolue["hors_region"] else None,
            )
            demande = demande_compte_accepter(demande=demande, par=staff)
            organisme = demande.organisme
            self.crees += 1
        gestionnaire = Contact.objects.get(organisme=organisme, user__email=f"{gestion[0]}@{DOMAINE}").user
        self._mot_de_passe(gestionnaire)
        for (login, prenom, nom, civilite), droits in [
            (saisie, {"peut_saisir": True}),
            (consultation, {}),
        ]:
            email = f"{login}@{DOMAINE}"
            if not Contact.objects.filter(organisme=organisme, user__email=email).exists():
                contact = contact_inviter(
                    organisme=organisme,
                    par=gestionnaire,
                    email=email,
                    first_name=prenom,
                    last_name=nom,
                    civilite=civilite,
                    consentement=True,
                    **droits,
                )
                self._mot_de_passe(contact.user)
                self.crees += 1
        for commune in lieux:
            denomination = f"Site de {commune.nom}"
            if not Lieu.objects.filter(organisme=organisme, denomination=denomination).exists():
                lieu_creer(
                    organisme=organisme,
                    par=gestionnaire,
                    donnees={
                        "denomination": denomination,
                        "ligne1": "5 avenue de la Formation",
                        "code_postal": commune.codes_postaux[0],
                        "ville": commune.nom,
                        "code_insee": commune.code_insee,
                    },
                )
                self.crees += 1
        return organisme

    def _mot_de_passe(self, user):
        if not user.has_usable_password():
            utilisateur_mot_de_passe_definir(user=user, password=DEMO_PASSWORD)

    # --- the offer -------------------------------------------------------------------------------------------------

    def _formation(self, organisme, intitule, *, sessions, formacodes, nsf, romes, dispositif, certification=None):
        """Creates the formation with its sessions as the OF's « saisir » contact would; None when it exists.

        `certification`: an RNCP/RS code; the formation is then certifiante (with the certifying body's agreement)
        and its sessions prepare every bloc de compétences of that certification.
        """
        if Formation.objects.filter(organisme=organisme, intitule=intitule).exists():
            return None
        saisie = organisme.contacts.filter(peut_saisir=True, peut_gerer=False).first().user
        certifications = list(Certification.objects.filter(code=certification)) if certification else []
        formation = formation_creer(
            organisme=organisme,
            user=saisie,
            donnees={
                "intitule": intitule,
                "objectif": f"Acquérir les compétences du domaine : {intitule.lower()}.",
                "resultats_attendus": "Être capable de mettre en œuvre les acquis en situation professionnelle.",
                "contenu": "Apports théoriques, mises en situation, travaux pratiques et évaluation finale.",
                "certifiante": bool(certifications),
                "certifications": certifications,
                "parcours": Parcours.GROUPE,
                "niveau_entree": Niveau.SANS_NIVEAU,
                "formacodes": list(Formacode.objects.filter(code__in=formacodes)),
                "nsf": list(NSF.objects.filter(code__in=nsf)),
                "romes": list(Rome.objects.filter(code__in=romes)),
            },
            agrement=ContentFile(DEMO_PDF, name="agrement-organisme-valideur.pdf") if certifications else None,
        )
        blocs = list(BlocCompetences.objects.filter(certification__in=certifications))
        lieux = list(organisme.lieux.filter(actif=True))
        today = timezone.localdate()
        for i, (debut_dans, duree) in enumerate(sessions):
            debut = today + datetime.timedelta(days=debut_dans)
            session_creer(
                formation=formation,
                user=saisie,
                donnees={
                    "dispositif": dispositif,
                    "rythme": "Temps plein, 35 heures par semaine.",
                    "public_vise": ["83056", "80006"],
                    "lieux": [lieux[i % len(lieux)]],
                    "debut": debut,
                    "fin": debut + datetime.timedelta(days=duree),
                    "nombre_heures_total": 35 * max(1, duree // 7),
                    "blocs": blocs,
                },
            )
        self.crees += 1
        return formation

    def _offre(self, organisme, staff):
        saisie = organisme.contacts.filter(peut_saisir=True, peut_gerer=False).first().user
        entreprise = Dispositif.ENTREPRISE_PARTICULIER
        self._formation(
            organisme,
            "Formation soudeur assembleur industriel",
            sessions=[(45, 120)],
            formacodes=["22454"],
            nsf=["254"],
            romes=["H2913"],
            dispositif=entreprise,
        )
        attente = self._formation(
            organisme,
            "Anglais professionnel : communiquer à l'oral",
            sessions=[(20, 30), (80, 30)],
            formacodes=["15234"],
            nsf=["136"],
            romes=[],
            dispositif=Dispositif.CPF,
        )
        if attente:
            workflow.formation_soumettre(formation=attente, user=saisie)
        complement = self._formation(
            organisme,
            "Bureautique : Word et Excel pour débutants",
            sessions=[(15, 10)],
            formacodes=["70354"],
            nsf=["326"],
            romes=["M1607"],
            dispositif=entreprise,
        )
        if complement:
            workflow.formation_soumettre(formation=complement, user=saisie)
            workflow.formation_demander_complement(
                formation=complement,
                user=staff,
                message="Merci de préciser le nombre d'heures en centre et les prérequis.",
            )
        validee = self._formation(
            organisme,
            "Agent de restauration : titre professionnel",
            sessions=[(30, 180), (120, 180), (210, 180)],
            formacodes=["42752", "42781"],
            nsf=["221"],
            romes=["G1603"],
            dispositif=Dispositif.REGION,
            certification="RNCP35631",
        )
        if validee:
            workflow.formation_soumettre(formation=validee, user=saisie)
            workflow.formation_valider(formation=validee, user=staff)
        refusee = self._formation(
            organisme,
            "Préparation au permis cariste",
            sessions=[(10, 5)],
            formacodes=["31813"],
            nsf=["311"],
            romes=["N1101"],
            dispositif=entreprise,
        )
        if refusee:
            workflow.formation_soumettre(formation=refusee, user=saisie)
            workflow.formation_refuser(
                formation=refusee,
                user=staff,
                motif="Formation d'adaptation au poste, hors du champ de la formation continue référencée.",
            )
        archivee = self._formation(
            organisme,
            "Initiation à la comptabilité",
            sessions=[(-200, 60)],
            formacodes=["32663"],
            nsf=["314"],
            romes=["M1203"],
            dispositif=entreprise,
        )
        if archivee:
            workflow.formation_soumettre(formation=archivee, user=saisie)
            workflow.formation_valider(formation=archivee, user=staff)
            workflow.formation_archiver(formation=archivee, user=saisie)

    def _offre_autre(self, organisme, staff):
        saisie = organisme.contacts.filter(peut_saisir=True, peut_gerer=False).first().user
        validee = self._formation(
            organisme,
            "Management d'équipe : les fondamentaux",
            sessions=[(25, 14), (95, 14)],
            formacodes=["32032"],
            nsf=["310"],
            romes=["M1302"],
            dispositif=Dispositif.ENTREPRISE_PARTICULIER,
        )
        if validee:
            workflow.formation_soumettre(formation=validee, user=saisie)
            workflow.formation_valider(formation=validee, user=staff)
        self._formation(
            organisme,
            "Sauveteur secouriste du travail",
            sessions=[(12, 2)],
            formacodes=["42806"],
            nsf=["344"],
            romes=[],
            dispositif=Dispositif.ENTREPRISE_PARTICULIER,
        )

    def _demande_en_attente(self):
        numero = siret(63_456_789)
        if DemandeCompte.objects.filter(siret=numero).exists():
            return
        commune = _commune_principale(self.region.departements[-1])
        resolue, _ = account_rules.adresse_resoudre(
            code_postal=commune.codes_postaux[0], ville=commune.nom, code_insee=commune.code_insee
        )
        demande_compte_creer(
            donnees={
                "nda": f"{self.region.code}410098765",
                "siret": numero,
                "raison_sociale": "Atelier des Métiers du Bois",
                "ligne1": "3 impasse des Tanneurs",
                "code_postal": commune.codes_postaux[0],
                "ville": commune.nom,
                "adresse": resolue,
                "civilite": Civilite.MADAME,
                "nom": "Moreau",
                "prenom": "Léa",
                "email": f"contact.amb@{DOMAINE}",
                "telephone": "02 54 00 00 00",
            }
        )
        self.crees += 1

    def _afficher_logins(self):
        self.stdout.write(f"Comptes de démonstration (mot de passe de tous : {DEMO_PASSWORD}) :")
        self.stdout.write(f"  {STAFF['email']:<42} équipe offre du GIP")
        rights = [
            ("gestion", "gérer l'organisme et ses contacts"),
            ("saisie", "saisir l'offre"),
            ("consultation", "consulter"),
        ]
        for organisme in Organisme.objects.filter(siret__in=[siret(41_234_567), siret(52_345_678)]).order_by("siret"):
            for prefix, libelle in rights:
                contact = organisme.contacts.filter(user__email__startswith=f"{prefix}.").select_related("user").first()
                if contact:
                    self.stdout.write(f"  {contact.user.email:<42} {libelle} — {organisme}")
