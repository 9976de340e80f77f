"""factory_boy factories, with traits named after business situations.

Helpers may add traits here: add, never rewrite, so that every app's tests share them.
"""

import datetime

import factory
from django.utils import timezone

from ofeli.accounts.models import User
from ofeli.offre.models import Action, Dispositif, Etat, Formation, Session, Source
from ofeli.organismes.models import Contact, Lieu, Organisme, OrganismeFormateur
from ofeli.referentiels.models import Commune


def luhn_complete(digits: str) -> str:
    """Appends the Luhn check digit to `digits` (SIRET = 13 digits + key)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def siret_valide(n: int) -> str:
    """A SIRET whose SIREN and whole number both pass Luhn, as python-stdnum checks."""
    siren = luhn_complete(f"{12345678 + n:08d}")
    return luhn_complete(f"{siren}{n % 10000:04d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"contact{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("Mot-de-passe-1")

    class Params:
        staff = factory.Trait(is_staff=True, email=factory.Sequence(lambda n: f"equipe{n}@gip.example"))


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code_insee",)

    code_insee = "45234"
    nom = "Orléans"
    departement = "45"
    region = "24"
    codes_postaux = ["45000"]


class OrganismeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisme

    raison_sociale = factory.Sequence(lambda n: f"Organisme de formation {n}")
    siret = factory.Sequence(siret_valide)
    nda = factory.Sequence(lambda n: f"24{450000000 + n:09d}")
    ligne1 = "1 rue de la République"
    code_postal = "45000"
    ville = "Orléans"
    code_insee = "45234"
    departement = "45"
    region = "24"
    email = factory.Sequence(lambda n: f"of{n}@exemple.fr")

    class Params:
        hors_region = factory.Trait(
            nda=factory.Sequence(lambda n: f"11{750000000 + n:09d}"),
            code_postal="75001",
            ville="Paris",
            code_insee="75101",
            departement="75",
            region="11",
        )


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    user = factory.SubFactory(UserFactory)
    organisme = factory.SubFactory(OrganismeFactory)
    peut_saisir = True
    peut_gerer = False
    consentement_at = factory.LazyFunction(timezone.now)

    class Params:
        gestionnaire = factory.Trait(peut_gerer=True, peut_saisir=True)
        lecteur = factory.Trait(peut_gerer=False, peut_saisir=False)


class LieuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lieu

    organisme = factory.SubFactory(OrganismeFactory)
    denomination = "Centre de formation"
    ligne1 = "10 avenue des Champs"
    code_postal = "18000"
    ville = "Bourges"
    code_insee = "18033"
    departement = "18"
    region = "24"

    class Params:
        hors_region = factory.Trait(
            code_postal="75001", ville="Paris", code_insee="75101", departement="75", region="11"
        )


class OrganismeFormateurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganismeFormateur

    organisme = factory.SubFactory(OrganismeFactory)
    siret = factory.Sequence(lambda n: siret_valide(5000 + n))
    raison_sociale = factory.Sequence(lambda n: f"Formateur associé {n}")


class FormationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Formation

    organisme = factory.SubFactory(OrganismeFactory)
    source = Source.OF
    intitule = factory.Sequence(lambda n: f"Formation soudure niveau {n}")
    objectif = "Maîtriser les techniques de soudage à l'arc."
    resultats_attendus = "Être capable de réaliser une soudure conforme."
    contenu = "Sécurité, procédés de soudage, travaux pratiques."
    etat = Etat.BROUILLON

    class Params:
        soumise = factory.Trait(etat=Etat.EN_ATTENTE, soumise_at=factory.LazyFunction(timezone.now))
        validee = factory.Trait(etat=Etat.VALIDEE, numero=factory.Sequence(lambda n: f"{900000 + n}F"))
        archivee = factory.Trait(etat=Etat.ARCHIVE_OF)
        region_eos = factory.Trait(source=Source.REGION)
        apprentissage = factory.Trait(source=Source.APPRENTISSAGE)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    formation = factory.SubFactory(FormationFactory)
    dispositif = Dispositif.ENTREPRISE_PARTICULIER
    rythme = "Temps plein, 35 heures par semaine."
    public_vise = ["83056"]
    etat = factory.SelfAttribute("formation.etat")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    action = factory.SubFactory(ActionFactory)
    debut = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    fin = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=120))
    etat = factory.SelfAttribute("action.formation.etat")


# --- Referentials and attachments for the offer entry (tests/offre) -----------------------------


class FormacodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referentiels.Formacode"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{22000 + n:05d}")
    libelle = factory.Sequence(lambda n: f"Domaine de formation {n}")


class NSFFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referentiels.NSF"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{200 + n % 800:03d}")
    libelle = factory.Sequence(lambda n: f"Spécialité {n}")


class RomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referentiels.Rome"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"H{2900 + n % 100:04d}")
    libelle = factory.Sequence(lambda n: f"Métier {n}")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referentiels.Certification"
        django_get_or_create = ("code",)

    type = "RNCP"
    code = factory.Sequence(lambda n: f"RNCP{35000 + n}")
    intitule = factory.Sequence(lambda n: f"Titre professionnel soudeur {n}")

    class Params:
        rs = factory.Trait(type="RS", code=factory.Sequence(lambda n: f"RS{5000 + n}"))


class BlocCompetencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "referentiels.BlocCompetences"
        django_get_or_create = ("code",)

    certification = factory.SubFactory(CertificationFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.certification.code}BC{n % 100:02d}")
    libelle = factory.Sequence(lambda n: f"Bloc de compétences {n}")


# A minimal valid PDF: attachments are checked by their content, not their name.
PDF_MINIMAL = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class PieceJointeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "offre.PieceJointe"

    organisme = factory.SubFactory(OrganismeFactory)
    nature = "autre"
    fichier = factory.django.FileField(filename="piece.pdf", data=PDF_MINIMAL)
    nom_original = "piece.pdf"
    content_type = "application/pdf"
    taille = len(PDF_MINIMAL)

    class Params:
        agrement = factory.Trait(nature="agrement", nom_original="agrement.pdf")
        convention = factory.Trait(
            nature="convention",
            nom_original="convention.pdf",
            commune_lieu=factory.SubFactory(CommuneFactory),
        )


class DemandeCompteFactory(factory.django.DjangoModelFactory):
    """An account request ("Créer un compte") waiting for the GIP."""

    class Meta:
        model = "accounts.DemandeCompte"

    nda = factory.Sequence(lambda n: f"24{370000000 + n:09d}")
    siret = factory.Sequence(lambda n: siret_valide(7000 + n))
    raison_sociale = factory.Sequence(lambda n: f"Nouvel organisme {n}")
    ligne1 = "3 place du Martroi"
    code_postal = "45000"
    ville = "Orléans"
    code_insee = "45234"
    departement = "45"
    region = "24"
    civilite = "mme"
    nom = "Martin"
    prenom = "Claire"
    email = factory.Sequence(lambda n: f"demandeur{n}@exemple.fr")
    telephone = "02 38 00 00 00"
    consentement_at = factory.LazyFunction(timezone.now)

    class Params:
        hors_region = factory.Trait(
            nda=factory.Sequence(lambda n: f"11{750000000 + n:09d}"),
            code_postal="75001",
            ville="Paris",
            code_insee="75101",
            departement="75",
            region="",
        )
