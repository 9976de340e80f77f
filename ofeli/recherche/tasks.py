"""Nightly upkeep of the search documents (Huey; the same work as the functions it calls)."""

from huey.contrib.djhuey import db_periodic_task

from ofeli.core.horaires import chaque_jour_a

from .index import rafraichir_prochaines_sessions


@db_periodic_task(chaque_jour_a(0, 5))  # 00:05 in Paris, just after the day changes
def rafraichir_prochaines_sessions_nuit():
    """Just after midnight: the documents whose next session started yesterday get the following one, so the
    first search sorted by next session of the day has nothing to recompute."""
    return rafraichir_prochaines_sessions()
