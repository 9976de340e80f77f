"""manage.py generate_offre --formations N [--seed S]: a large, realistic offer for the benchmarks (bench/).

What it generates, on top of what is already in the database:
- organismes with a skewed size (a Zipf law: a few OFs hold thousands of sessions, most a handful), 5 % of them
  registered in another region, each with 1 to 4 lieux in communes of the configured region (Commune table);
- formations with French titles and texts of varied length (accents, near-stop-words such as « formation »),
  Formacode / NSF / ROME codes and, for a third of them, RNCP/RS certifications;
- one action per formation (dispositif, rythme, public, price, hours, lieu) and 1 to 6 sessions (about 3 on
  average) spread over two years;
- about 10 % of the formations in each workflow state but « validée » (half of them), their sessions following.

It writes with bulk_create in batches of --batch formations, one transaction per batch, so memory stays bounded
and 100,000 formations take a few minutes. This is test data for measurements, not a way to enter an offer: it
bypasses the offer's write functions on purpose (no history rows, no e-mails, no publications). Generated rows
carry `extras["genere_par"] = "generate_offre"` and Carif numbers starting with "G". When the search index of
ofeli.recherche is available (`indexer_formations`), each batch is indexed as it is written.
"""

import datetime
import random
import time
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries, transaction
from django.utils import timezone

from ofeli.core.region import current_region
from ofeli.offre.models import (
    Action,
    Dispositif,
    Etat,
    EtatRecrutement,
    Formation,
    ModalitesEnseignement,
    Niveau,
    ObjectifGeneral,
    Parcours,
    Session,
    Source,
)
from ofeli.organismes.models import Lieu, Organisme
from ofeli.referentiels.models import NSF, Certification, Commune, Formacode, Rome

MARQUE = "generate_offre"

ETATS = [
    (Etat.VALIDEE, 50),
    (Etat.BROUILLON, 10),
    (Etat.EN_ATTENTE, 10),
    (Etat.COMPLEMENT, 10),
    (Etat.NON_DIFFUSEE, 10),
    (Etat.ARCHIVE_OF, 10),
]
SESSIONS_PAR_FORMATION = [(1, 20), (2, 20), (3, 20), (4, 17), (5, 12), (6, 11)]
DISPOSITIFS = [
    (Dispositif.ENTREPRISE_PARTICULIER, 40),
    (Dispositif.CPF, 15),
    (Dispositif.AIF, 8),
    (Dispositif.CONTRAT_PRO, 8),
    (Dispositif.APPRENTISSAGE, 10),
    (Dispositif.REGION, 8),
    (Dispositif.AFC, 4),
    (Dispositif.POEC, 3),
    (Dispositif.POEI, 2),
    (Dispositif.AUTRE, 2),
]
SOURCE_PAR_DISPOSITIF = {
    Dispositif.APPRENTISSAGE: Source.APPRENTISSAGE,
    Dispositif.REGION: Source.REGION,
    Dispositif.AFC: Source.AFC,
    Dispositif.POEC: Source.POEC,
}

METIERS = [
    "soudeur assembleur",
    "agent de restauration",
    "cuisinier",
    "assistant de vie aux familles",
    "aide-soignant",
    "accompagnant éducatif et social",
    "comptable assistant",
    "gestionnaire de paie",
    "secrétaire médicale",
    "assistant de direction",
    "vendeur conseil en magasin",
    "développeur web et web mobile",
    "technicien d'assistance informatique",
    "cariste d'entrepôt",
    "préparateur de commandes",
    "conducteur routier de marchandises",
    "électricien du bâtiment",
    "maçon",
    "plombier chauffagiste",
    "agent de propreté et d'hygiène",
    "manager d'unité marchande",
    "employé polyvalent de la grande distribution",
    "agent de sécurité",
    "ouvrier paysagiste",
    "viticulteur",
    "boulanger",
    "pâtissier",
    "coiffeur",
    "esthéticienne",
    "auxiliaire de puériculture",
    "menuisier agenceur",
    "chaudronnier",
    "technicien de maintenance industrielle",
    "opérateur régleur sur machine à commande numérique",
    "formateur professionnel d'adultes",
    "conseiller en insertion professionnelle",
]
THEMES = [
    "anglais professionnel",
    "bureautique : Word, Excel et PowerPoint",
    "français langue étrangère",
    "remise à niveau en mathématiques",
    "savoirs de base et compétences clés",
    "management d'équipe",
    "prise de parole en public",
    "gestion du stress",
    "sauveteur secouriste du travail",
    "habilitation électrique",
    "CACES chariots élévateurs",
    "hygiène alimentaire HACCP",
    "création et reprise d'entreprise",
    "comptabilité générale",
    "paie et déclarations sociales",
    "marketing digital et réseaux sociaux",
    "langue des signes française",
    "cybersécurité : les bons réflexes",
    "accueil du public en situation de handicap",
    "techniques de vente",
]
GABARITS_INTITULE = [
    "Formation {x}",
    "{X}",
    "Titre professionnel {x}",
    "Devenir {x}",
    "Formation qualifiante {x}",
    "{X} - parcours individualisé",
    "Préparation au métier de {x}",
    "Initiation : {x}",
    "Perfectionnement en {x}",
    "Formation {x} (session d'été)",
]
PHRASES = [
    "Cette formation permet d'acquérir les compétences nécessaires à l'exercice du métier.",
    "Les stagiaires alternent les apports théoriques et les mises en situation professionnelle.",
    "À l'issue de la formation, le stagiaire est capable de réaliser les opérations courantes en toute sécurité.",
    "La formation s'adresse aux demandeurs d'emploi comme aux salariés en reconversion.",
    "Un entretien individuel et des tests de positionnement précèdent l'entrée en formation.",
    "Le parcours est adapté aux acquis de chacun après une évaluation des besoins.",
    "Les séquences pédagogiques s'appuient sur des études de cas réels et des travaux pratiques.",
    "Une période en entreprise permet de mettre en œuvre les acquis de la formation.",
    "Le formateur accompagne chaque stagiaire dans l'élaboration de son projet professionnel.",
    "Les règles d'hygiène, de sécurité et de prévention des risques professionnels sont abordées.",
    "La validation des compétences se fait par une évaluation en cours de formation et un examen final.",
    "Des modules de remise à niveau en français et en mathématiques sont proposés si nécessaire.",
    "Les locaux sont accessibles aux personnes à mobilité réduite ; contactez le référent handicap.",
    "La formation prépare à la certification et peut être suivie par blocs de compétences.",
    "Les équipements utilisés sont ceux des entreprises du secteur : outillage, logiciels, matériels.",
    "Communication professionnelle, travail en équipe et relation client complètent le programme.",
    "Le suivi après la formation aide à l'insertion dans l'emploi durable.",
    "Une attestation de fin de formation est remise à chaque participant.",
]
RYTHMES = [
    "Temps plein, 35 heures par semaine.",
    "Temps partiel, deux jours par semaine.",
    "En soirée, de 18 h à 21 h.",
    "Alternance : trois semaines en entreprise, une semaine en centre.",
    "Le samedi matin.",
    "Selon le planning individuel défini à l'entrée.",
]
PUBLICS = ["83056", "80006", "82044", "81050", "81024", "81020", "80009", "82058"]
RAISONS = ["Institut", "Centre de formation", "Académie", "Atelier", "École", "Groupe", "Association", "CFA"]
NOMS_OF = [
    "Ligérien",
    "du Val",
    "des Métiers",
    "Loire Compétences",
    "Berry Formation",
    "Beauce Avenir",
    "Touraine Pro",
    "Sologne Emploi",
    "Perche Savoirs",
    "Cher Qualification",
    "Indre Progrès",
    "Orléanais",
    "Chartrain",
    "Blésois",
]
RUES = ["rue de la République", "avenue de Paris", "boulevard Jean Jaurès", "rue Nationale", "place du Marché"]


def luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def _weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(weights)


class Generateur:
    def __init__(self, *, seed, indexer=None):
        self.rng = random.Random(seed)  # nosec B311  # reproducible fake offer for benchmarks, no secret
        # Organismes draw from their own stream: the offer of a given seed is the same whatever exists already.
        self.rng_organismes = random.Random(None if seed is None else f"{seed}-organismes")  # nosec B311  # same
        self.indexer = indexer
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.region = current_region()
        self.etats = _weighted(ETATS)
        self.nb_sessions = _weighted(SESSIONS_PAR_FORMATION)
        self.dispositifs = _weighted(DISPOSITIFS)
        self.formacodes = list(Formacode.objects.values_list("code", flat=True))
        self.nsf = list(NSF.objects.values_list("code", flat=True))
        self.romes = list(Rome.objects.values_list("code", flat=True))
        self.certifications = list(Certification.objects.filter(actif=True).values_list("id", flat=True))
        self.communes = list(
            Commune.objects.filter(departement__in=self.region.departements, actuelle=True).values_list(
                "code_insee", "nom", "departement", "region", "codes_postaux"
            )
        )
        if not self.communes:
            raise CommandError(
                f"Aucune commune de la région {self.region.nom} : lancez d'abord manage.py load_referentiels."
            )
        # Every generated row takes the next number: starting above the row count never reuses one.
        self.sequence = Formation.objects.count() + Action.objects.count() + Session.objects.count() + 1

    # --- organismes ----------------------------------------------------------------------------------------------

    def organismes(self, nombre: int) -> list[tuple[int, list[int]]]:
        """Creates `nombre` organismes with their lieux; returns (organisme id, lieu ids) from the biggest down."""
        sirets = set(Organisme.objects.values_list("siret", flat=True))
        ndas = set(Organisme.objects.exclude(nda=None).values_list("nda", flat=True))
        created = []
        n = self.rng_organismes.randrange(10_000_000)
        for i in range(nombre):
            while True:
                n += 1
                siren = luhn_complete(f"{(70_000_000 + n) % 100_000_000:08d}")
                siret = luhn_complete(f"{siren}{(i % 9000) + 10:04d}")
                hors_region = self.rng_organismes.random() < 0.05
                prefixe = "11" if hors_region and self.region.code != "11" else self.region.code
                nda = f"{prefixe}{(n * 7919) % 1_000_000_000:09d}"
                if siret not in sirets and nda not in ndas:
                    break
            sirets.add(siret)
            ndas.add(nda)
            insee, nom, dep, reg, cps = self.rng_organismes.choice(self.communes)
            raison = f"{self.rng_organismes.choice(RAISONS)} {self.rng_organismes.choice(NOMS_OF)} {i + 1}"
            created.append(
                Organisme(
                    raison_sociale=raison,
                    siret=siret,
                    nda=nda,
                    ligne1=f"{self.rng_organismes.randint(1, 120)} {self.rng_organismes.choice(RUES)}",
                    code_postal=cps[0] if cps else "",
                    ville=nom[:50],
                    commune_id=insee,
                    code_insee=insee,
                    departement=dep,
                    region=reg,
                    email=f"contact{n}@of-genere.example",
                    description=f"Organisme généré par {MARQUE}.",
                )
            )
        with transaction.atomic():
            Organisme.objects.bulk_create(created, batch_size=1000)
            lieux = []
            for organisme in created:
                for _ in range(self.rng_organismes.randint(1, 4)):
                    insee, nom, dep, reg, cps = self.rng_organismes.choice(self.communes)
                    lieux.append(
                        Lieu(
                            organisme=organisme,
                            denomination=f"Site de {nom}"[:255],
                            ligne1=f"{self.rng_organismes.randint(1, 120)} {self.rng_organismes.choice(RUES)}",
                            code_postal=cps[0] if cps else "",
                            ville=nom[:50],
                            commune_id=insee,
                            code_insee=insee,
                            departement=dep,
                            region=reg,
                        )
                    )
            Lieu.objects.bulk_create(lieux, batch_size=1000)
        par_organisme = {o.pk: [] for o in created}
        for lieu in lieux:
            par_organisme[lieu.organisme_id].append(lieu.pk)
        return list(par_organisme.items())

    # --- texts ---------------------------------------------------------------------------------------------------

    def intitule(self) -> str:
        sujet = self.rng.choice(METIERS if self.rng.random() < 0.6 else THEMES)
        gabarit = self.rng.choice(GABARITS_INTITULE)
        texte = gabarit.format(x=sujet, X=sujet[0].upper() + sujet[1:])
        return texte[:255]

    def texte(self, moyenne: int) -> str:
        """A French text whose length follows a log-normal law around `moyenne` characters (3,000 at most)."""
        cible = min(2900, max(60, int(self.rng.lognormvariate(0, 0.6) * moyenne)))
        phrases = []
        longueur = 0
        while longueur < cible:
            phrase = self.rng.choice(PHRASES)
            phrases.append(phrase)
            longueur += len(phrase) + 1
        return " ".join(phrases)[:3000]

    # --- formations ----------------------------------------------------------------------------------------------

    def lot(self, nombre: int, organismes, poids) -> tuple[int, int]:
        """Writes `nombre` formations (with their action and sessions) in one transaction."""
        rng = self.rng
        formations, plans = [], []
        for _ in range(nombre):
            organisme_id, lieux = rng.choices(organismes, cum_weights=poids)[0]
            etat = rng.choices(*self.etats)[0]
            dispositif = rng.choices(*self.dispositifs)[0]
            self.sequence += 1
            numero = f"G{self.sequence}F" if etat in (Etat.VALIDEE, Etat.NON_DIFFUSEE, Etat.ARCHIVE_OF) else None
            formations.append(
                Formation(
                    organisme_id=organisme_id,
                    source=SOURCE_PAR_DISPOSITIF.get(dispositif, Source.OF),
                    intitule=self.intitule(),
                    objectif=self.texte(400),
                    resultats_attendus=self.texte(250),
                    contenu=self.texte(900),
                    certifiante=bool(self.certifications) and rng.random() < 0.33,
                    parcours=rng.choice(Parcours.values),
                    niveau_entree=rng.choice(Niveau.values),
                    objectif_general=rng.choice(ObjectifGeneral.values),
                    etat=etat,
                    numero=numero,
                    soumise_at=self.now - datetime.timedelta(hours=rng.randint(1, 2000))
                    if etat != Etat.BROUILLON
                    else None,
                    extras={"genere_par": MARQUE},
                )
            )
            plans.append((dispositif, lieux, rng.choices(*self.nb_sessions)[0]))
        with transaction.atomic():
            Formation.objects.bulk_create(formations, batch_size=1000)
            actions = []
            for formation, (dispositif, _lieux, _n) in zip(formations, plans, strict=True):
                heures = rng.choice([14, 35, 70, 140, 280, 400, 600, 900, 1200])
                self.sequence += 1
                actions.append(
                    Action(
                        formation=formation,
                        etat=formation.etat,
                        numero=f"G{self.sequence}A" if formation.numero else None,
                        dispositif=dispositif,
                        numero_marche=f"M{rng.randint(2024, 2027)}-{rng.randint(1, 999):03d}"
                        if dispositif in (Dispositif.REGION, Dispositif.AFC)
                        else "",
                        rythme=rng.choice(RYTHMES),
                        public_vise=rng.sample(PUBLICS, rng.randint(1, 3)),
                        modalites_enseignement=rng.choices(ModalitesEnseignement.values, weights=[80, 15, 5])[0],
                        entree_sortie_permanente=rng.random() < 0.1,
                        prix_total_ttc=Decimal(heures * rng.randint(8, 25)),
                        nombre_heures_total=heures,
                        nombre_heures_centre=heures,
                        conditions_specifiques=self.texte(150) if rng.random() < 0.5 else "",
                        extras={"genere_par": MARQUE},
                    )
                )
            Action.objects.bulk_create(actions, batch_size=1000)
            sessions, lieux_rows = [], []
            for action, (_dispositif, lieux, n) in zip(actions, plans, strict=True):
                lieux_rows.append(Action.lieux.through(action_id=action.pk, lieu_id=rng.choice(lieux)))
                for _ in range(n):
                    debut = self.today + datetime.timedelta(days=rng.randint(-365, 365))
                    self.sequence += 1
                    sessions.append(
                        Session(
                            action=action,
                            etat=action.etat,
                            numero=f"G{self.sequence}S" if action.numero else None,
                            debut=debut,
                            fin=debut + datetime.timedelta(days=rng.randint(1, 300)),
                            inscription_debut=debut - datetime.timedelta(days=60),
                            inscription_fin=debut - datetime.timedelta(days=rng.randint(0, 10)),
                            etat_recrutement=rng.choices(EtatRecrutement.values, weights=[80, 15, 5])[0],
                            places_restantes=rng.randint(0, 20) if rng.random() < 0.4 else None,
                            extras={"genere_par": MARQUE},
                        )
                    )
            Session.objects.bulk_create(sessions, batch_size=2000)
            Action.lieux.through.objects.bulk_create(lieux_rows, batch_size=2000)
            self._codes(formations)
            if self.indexer:
                self.indexer([f.pk for f in formations])
        return len(formations), len(sessions)

    def _codes(self, formations):
        rng = self.rng
        through = Formation.formacodes.through, Formation.nsf.through, Formation.romes.through
        rows = ([], [], [], [])
        for f in formations:
            if self.formacodes:
                for code in rng.sample(self.formacodes, min(len(self.formacodes), rng.randint(1, 3))):
                    rows[0].append(through[0](formation_id=f.pk, formacode_id=code))
            if self.nsf:
                rows[1].append(through[1](formation_id=f.pk, nsf_id=rng.choice(self.nsf)))
            if self.romes:
                for code in rng.sample(self.romes, rng.randint(0, 2)):
                    rows[2].append(through[2](formation_id=f.pk, rome_id=code))
            if f.certifiante:
                rows[3].append(
                    Formation.certifications.through(
                        formation_id=f.pk, certification_id=rng.choice(self.certifications)
                    )
                )
        for model, items in zip((*through, Formation.certifications.through), rows, strict=True):
            model.objects.bulk_create(items, batch_size=2000)


def _search_indexer():
    try:
        from ofeli.recherche.index import indexer_formations
    except ImportError:
        return None
    return indexer_formations


class Command(BaseCommand):
    help = "Génère une offre de formation réaliste et volumineuse pour les mesures de performance (bench/)."

    def add_arguments(self, parser):
        parser.add_argument("--formations", type=int, required=True, help="nombre de formations à générer")
        parser.add_argument("--seed", type=int, default=None, help="graine du hasard (même graine, même offre)")
        parser.add_argument(
            "--organismes",
            type=int,
            default=None,
            help="nombre d'organismes à créer (par défaut : une formation sur cent, au moins 5)",
        )
        parser.add_argument("--batch", type=int, default=2000, help="formations écrites par transaction")
        parser.add_argument(
            "--sans-index",
            action="store_true",
            help="n'alimente pas l'index de recherche (à reconstruire ensuite avec la commande d'indexation)",
        )

    def handle(self, *args, **options):
        total = options["formations"]
        if total < 1:
            raise CommandError("--formations doit être un entier positif.")
        if options["batch"] < 1:
            raise CommandError("--batch doit être un entier positif.")
        started = time.monotonic()
        if not Commune.objects.exists():
            call_command("load_referentiels", "--samples", stdout=self.stdout)
        elif not Formacode.objects.exists():
            call_command("load_referentiels", "--only", "formacode,rncp", "--samples", stdout=self.stdout)
        indexer = None if options["sans_index"] else _search_indexer()
        generateur = Generateur(seed=options["seed"], indexer=indexer)
        nombre_of = options["organismes"] or max(5, total // 100)
        organismes = generateur.organismes(nombre_of)
        # Zipf law (s = 1.1): the first organisme gets about a tenth of the offer, most get a few formations.
        cumul, poids = 0.0, []
        for rang in range(1, len(organismes) + 1):
            cumul += 1 / rang**1.1
            poids.append(cumul)
        self.stdout.write(f"{len(organismes)} organismes créés ({time.monotonic() - started:.1f} s).")
        faites, sessions = 0, 0
        while faites < total:
            f, s = generateur.lot(min(options["batch"], total - faites), organismes, poids)
            # With DEBUG, Django keeps the SQL of every query: forget it, memory stays bounded.
            reset_queries()
            faites += f
            sessions += s
            elapsed = time.monotonic() - started
            self.stdout.write(f"  {faites} formations, {sessions} sessions ({elapsed:.1f} s)")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{faites} formations, {faites} actions, {sessions} sessions générées en {elapsed:.1f} s "
                f"({faites / elapsed:.0f} formations/s)"
                + (", index de recherche à jour." if indexer else " ; index de recherche non alimenté.")
            )
        )
