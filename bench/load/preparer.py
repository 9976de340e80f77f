"""Set-up of the load test (bench/load/run): accounts, the public pages' URLs and the counts before the run.

Creates (idempotent) CHARGE_OF contacts with the right « saisir » on as many generated organismes that have a
lieu, CHARGE_STAFF members of the équipe offre, all with the password CHARGE_MOT_DE_PASSE; writes to DOSSIER:
comptes.json (logins), urls.txt (public formation pages of current publications) and avant.json (counts).

    .venv/bin/python bench/load/preparer.py DOSSIER
"""

import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import identify_hasher  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402

from ofeli.accounts.models import User  # noqa: E402
from ofeli.offre.models import Etat, Formation, Session  # noqa: E402
from ofeli.organismes.models import Contact, Organisme  # noqa: E402
from ofeli.public.services import slug_de  # noqa: E402
from ofeli.validation.models import Publication  # noqa: E402

MOT_DE_PASSE = os.environ.get("CHARGE_MOT_DE_PASSE", "Charge-2026-Ofeli!")
NB_OF = int(os.environ.get("CHARGE_OF", 50))
NB_STAFF = int(os.environ.get("CHARGE_STAFF", 5))


def _mot_de_passe(user, created):
    """The password, hashed with the current hasher's parameters: as after a first login (Django rehashes then),
    so the run measures the logins of every day, not a one-off upgrade of accounts made by an older version."""
    if created or identify_hasher(user.password).must_update(user.password):
        user.set_password(MOT_DE_PASSE)
        user.save()


def comptes():
    organismes = list(Organisme.objects.filter(lieux__isnull=False, actif=True).distinct().order_by("pk")[:NB_OF])
    if len(organismes) < NB_OF:
        raise SystemExit(f"Il faut {NB_OF} organismes avec un lieu : lancez generate_offre d'abord.")
    of, staff = [], []
    with transaction.atomic():
        for i, organisme in enumerate(organismes, 1):
            email = f"charge-of-{i:03d}@exemple.test"
            user, created = User.objects.get_or_create(
                email=email, defaults={"first_name": "Charge", "last_name": f"OF {i}"}
            )
            _mot_de_passe(user, created)
            Contact.objects.get_or_create(user=user, organisme=organisme, defaults={"peut_saisir": True})
            of.append({"email": email, "organisme": organisme.pk})
        for i in range(1, NB_STAFF + 1):
            email = f"charge-staff-{i}@exemple.test"
            user, created = User.objects.get_or_create(
                email=email, defaults={"first_name": "Charge", "last_name": f"Staff {i}", "is_staff": True}
            )
            _mot_de_passe(user, created)
            staff.append({"email": email})
    return {"mot_de_passe": MOT_DE_PASSE, "of": of, "staff": staff}


def urls(n=500):
    lignes = list(
        Publication.objects.courantes()
        .exclude(formation__numero__isnull=True)
        .values_list("formation__numero", "data__formation__intitule")
    )
    random.Random(42).shuffle(lignes)
    return [reverse("public:formation", kwargs={"numero": num, "slug": slug_de(titre)}) for num, titre in lignes[:n]]


def compter():
    return {
        "formations": Formation.objects.count(),
        "sessions": Session.objects.count(),
        "publications": Publication.objects.count(),
        "publication_max": Publication.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "en_attente": Formation.objects.filter(etat=Etat.EN_ATTENTE).count(),
    }


def main():
    dossier = Path(sys.argv[1])
    dossier.mkdir(parents=True, exist_ok=True)
    (dossier / "comptes.json").write_text(json.dumps(comptes(), indent=1))
    liste = urls()
    if not liste:
        raise SystemExit("Aucune publication : lancez bench/bench_public.py --preparer d'abord.")
    (dossier / "urls.txt").write_text("\n".join(liste))
    avant = compter()
    (dossier / "avant.json").write_text(json.dumps(avant))
    print(f"Comptes prêts, {len(liste)} pages publiques ; avant : {avant}")


if __name__ == "__main__":
    main()
