"""Thin Huey tasks of the imports and the link checker: they fetch by id and call the domain functions.

Huey discovers `tasks` modules only: ofeli/diffusion/tasks.py imports this module.
"""

from huey.contrib.djhuey import db_periodic_task, db_task

from ofeli.core.horaires import chaque_jour_a

from . import imports, liens
from .models_imports import ImportRun


@db_task()
def import_offre_tache(run_id: int):
    """Runs (or resumes) an import launched from the staff screens."""
    run = ImportRun.objects.get(pk=run_id)
    if run.statut == ImportRun.Statut.TERMINE:
        return
    imports.import_executer(run=run)


@db_periodic_task(chaque_jour_a(3, 30))  # 03:30 in Paris, after the diffusion
def verifier_liens_nuit():
    liens.verifier_liens()
