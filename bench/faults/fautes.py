"""Fault scenarios with real processes killed by SIGKILL (bench/faults/run sets the database and var/ dirs).

1. `import_offre` killed mid-file, then run again: the committed batches stay, the rest goes in, each formation
   once; the killed run is never « terminé ».
2. `diffuse` killed mid-night, then run again: nothing marked as sent, no file published; the immediate rerun
   recognises the killed process is gone (same machine, process number recorded on the run), records the run as
   interrupted, removes its temporary files and builds the night whole.
Prints each step and exits 1 when an expectation fails.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()


from django.core.files.storage import default_storage  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from ofeli.diffusion.models import DiffusionRun, EtatDiffusion, Partenaire  # noqa: E402
from ofeli.diffusion.models_imports import ImportRun  # noqa: E402
from ofeli.lheo.validate import valider_lheo  # noqa: E402
from ofeli.offre.models import Formation  # noqa: E402
from ofeli.validation.models import Publication  # noqa: E402
from tests.diffusion.test_imports import formation_xml  # noqa: E402  (the suite's LHEO record template)

PY = str(ROOT / ".venv" / "bin" / "python")
ECHECS = []


def verifier(condition, message):
    print(("  ok   " if condition else "  ÉCHEC ") + message)
    if not condition:
        ECHECS.append(message)


def manage(*args, **kwargs):
    return subprocess.Popen(
        [PY, "manage.py", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs
    )


def tuer_quand(process, condition, delai_max=300):
    debut = time.monotonic()
    while time.monotonic() - debut < delai_max:
        close_old_connections()
        if process.poll() is not None:
            return False
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait()
            close_old_connections()
            return True
        time.sleep(0.2)
    raise SystemExit("La condition d'arrêt n'est jamais arrivée.")


def import_tue(n=300):
    print(f"== import_offre tué par SIGKILL au milieu d'un fichier de {n} formations (lots de 10)")
    fichier = Path(os.environ["OFELI_VAR_DIR"]) / "fautes-import.xml"
    fichier.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3">\n<offres>\n'
        + "\n".join(formation_xml(f"FAUTE{i:05d}") for i in range(n))
        + "\n</offres>\n</lheo>\n",
        encoding="utf-8",
    )
    avant = set(ImportRun.objects.values_list("pk", flat=True))
    p = manage("import_offre", str(fichier), "--source", "eos", "--taille-lot", "10")
    tue = tuer_quand(p, lambda: ImportRun.objects.exclude(pk__in=avant).filter(checkpoint__gte=n // 3).exists())
    verifier(tue, "le processus a été tué en cours d'import")
    run = ImportRun.objects.exclude(pk__in=avant).get()
    refs = Counter(Formation.objects.filter(source_ref__startswith="FAUTE").values_list("source_ref", flat=True))
    print(f"  au moment du kill : statut {run.statut}, checkpoint {run.checkpoint}, {sum(refs.values())} formations")
    verifier(run.statut != ImportRun.Statut.TERMINE, "le run tué n'est pas marqué terminé")
    verifier(sum(refs.values()) == run.checkpoint, "en base exactement les formations des lots validés (checkpoint)")
    # The killed process is gone and the run recorded its machine and process number: the rerun knows it is dead
    # at once (no wait for IMPORT_INACTIF), records it as interrupted and resumes after the committed batches.
    p = manage("import_offre", str(fichier), "--source", "eos", "--taille-lot", "10")
    sortie, _ = p.communicate()
    print("  relance immédiate : " + sortie.strip().splitlines()[-1])
    verifier(p.returncode == 0, "la relance se termine sans erreur")
    close_old_connections()
    refs = Counter(Formation.objects.filter(source_ref__startswith="FAUTE").values_list("source_ref", flat=True))
    verifier(len(refs) == n and set(refs.values()) == {1}, f"{n} formations, chacune une seule fois")
    dernier = ImportRun.objects.exclude(pk__in=avant).order_by("-pk").first()
    verifier(dernier.statut == ImportRun.Statut.TERMINE, "le nouveau run est terminé")
    run.refresh_from_db()
    verifier(
        run.statut == ImportRun.Statut.ERREUR, f"le run tué est noté « {run.get_statut_display()} » : {run.message}"
    )


def diffusion_tuee():
    print("== diffuse tué par SIGKILL pendant la construction des flux")
    partenaire = Partenaire.objects.get(slug="site-regional")
    publications = Publication.objects.courantes().count()
    print(f"  {publications} publications courantes")
    p = manage("diffuse", "--partenaire", partenaire.slug)
    time.sleep(1)
    tue = tuer_quand(p, lambda: DiffusionRun.objects.filter(statut=DiffusionRun.Statut.EN_COURS).exists())
    verifier(tue, "le processus a été tué pendant la diffusion")
    runs = list(DiffusionRun.objects.filter(partenaire=partenaire))
    verifier(all(r.statut == DiffusionRun.Statut.EN_COURS for r in runs), "runs restés « en cours », aucun réussi")
    verifier(not EtatDiffusion.objects.filter(partenaire=partenaire).exists(), "rien n'est marqué comme envoyé")
    dossier = f"diffusion/{partenaire.slug}"
    publies = (
        [f for f in default_storage.listdir(dossier)[1] if not f.startswith(".tmp-")]
        if default_storage.exists(dossier)
        else []
    )
    verifier(not publies, "aucun fichier publié")
    # The killed process is gone and the run recorded its machine and process number: the rerun knows it is dead
    # at once (no wait for RUN_INACTIF), records it as interrupted and builds the night whole.
    p = manage("diffuse", "--partenaire", partenaire.slug)
    sortie, _ = p.communicate()
    print("  relance immédiate : " + sortie.strip().splitlines()[-1])
    verifier(p.returncode == 0, "la relance immédiate reprend la nuit (le processus tué est reconnu arrêté)")
    close_old_connections()
    complet = DiffusionRun.objects.get(partenaire=partenaire, statut=DiffusionRun.Statut.REUSSI, kind="complet")
    verifier(valider_lheo(default_storage.path(complet.fichier)) == [], "le flux complet est conforme au XSD")
    verifier(
        EtatDiffusion.objects.filter(partenaire=partenaire).count() == complet.nb_formations,
        f"état de diffusion = formations envoyées ({complet.nb_formations})",
    )
    tues = DiffusionRun.objects.filter(partenaire=partenaire, tentative=1)
    verifier(
        all(r.statut == DiffusionRun.Statut.ECHEC and "Interrompue" in r.erreur for r in tues),
        "le run tué est noté « Interrompue »",
    )
    restes = [f for f in default_storage.listdir(dossier)[1] if f.startswith(".tmp-")]
    verifier(not restes, "les fichiers temporaires du processus tué sont supprimés")


if __name__ == "__main__":
    import_tue(int(os.environ.get("FAUTES_FORMATIONS_IMPORT", 300)))
    diffusion_tuee()
    if ECHECS:
        print(f"{len(ECHECS)} attente(s) non tenue(s).")
        sys.exit(1)
    print("Tous les scénarios se terminent par une erreur claire ou une reprise, avec les données exactes.")
