"""The search as other apps use it: criteria from a request's parameters → formations the user may see.

- `formations_pour(request, params)`: a queryset of Formation, filtered and sorted as the search page
  shows it; the export of a search result (ofeli.exports) uses it, so that an export holds exactly what
  the search found.
- `page_pour(request, params, numero)`: one page of results for the search page; it counts and pages on
  the search documents alone (faster) and loads only the page's formations.

An OF contact searches its own organisme's offer (every state), the équipe offre everything. The request
must have passed `of_required(Intent.READ)` (staff pass).
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from ofeli.offre.models import Formation
from ofeli.organismes.gate import current_contact, organisme_scope

from .forms import RechercheForm
from .models import CritereRecherche, Kind
from .query import (
    Criteres,
    Tri,
    correspondances_materialisees,
    mots_trop_courants,
    rechercher,
    rechercher_documents,
)
from .texte import a_des_mots

PAR_PAGE = 20
# Counting every match of a very common word costs as much as ranking them: the page counts up to
# this many and says "plus de" beyond (the results stay reachable page after page).
PLAFOND_COMPTE = 10_000


def compter(documents) -> int:
    """How many rows `documents` holds, counted up to PLAFOND_COMPTE + 1 (without the order: counting must not
    rank)."""
    return documents.order_by()[: PLAFOND_COMPTE + 1].count()


class PaginatorPlafonne(Paginator):
    """A Paginator whose count stops at PLAFOND_COMPTE + 1 (given when already known)."""

    def __init__(self, object_list, per_page, *, compte: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if compte is not None:
            self.__dict__["count"] = compte

    @cached_property
    def count(self):
        return compter(self.object_list)

    @property
    def plafond_atteint(self) -> bool:
        return self.count > PLAFOND_COMPTE


def documents_classes(
    criteres: Criteres, *, kind: str, organisme_id: int | None = None, aujourd_hui=None, restriction: Q | None = None
) -> tuple[QuerySet, int, bool]:
    """(the documents of a search page, sorted; their count up to PLAFOND_COMPTE + 1; whether the relevance order
    gave way to the intitulé order).

    Ranking costs per matching document: words found in more than PLAFOND_COMPTE documents (« formation »,
    « stagiaires ») would be ranked by the tens of thousands for a page of 20. Such a search keeps exactly the
    same results, in the intitulé order (an index walk that stops at the page), and the page says so: more
    precise words bring the relevance order back. On SQLite, words found in more than query.SEUIL_BM25 documents
    take the same path whatever the other criteria keep (query.mots_trop_courants). The count is made once,
    before choosing, without ranking.
    """

    def documents_pour(c: Criteres, dense: bool = False) -> QuerySet:
        documents = rechercher_documents(c, kind=kind, organisme_id=organisme_id, aujourd_hui=aujourd_hui, dense=dense)
        return documents if restriction is None else documents.filter(restriction)

    # Counted without ranking (the same documents in the intitulé order).
    compte = compter(documents_pour(replace(criteres, tri=Tri.INTITULE)))
    dense = compte > PLAFOND_COMPTE
    pertinence = criteres.tri == Tri.PERTINENCE and a_des_mots(criteres.texte)
    if pertinence and (dense or mots_trop_courants(criteres.texte, kind)):
        return documents_pour(replace(criteres, tri=Tri.INTITULE), dense), compte, True
    if criteres.tri == Tri.PERTINENCE and not pertinence:
        return documents_pour(replace(criteres, tri=Tri.INTITULE), dense), compte, False
    return documents_pour(criteres, dense), compte, False


def formulaire_pour(request, params) -> RechercheForm:
    """The bound search form for this user (the organisme criterion is for staff only)."""
    return RechercheForm(params, staff=request.user.is_staff)


def _erreurs(form) -> dict[str, list[str]]:
    return {champ: [str(m) for m in messages] for champ, messages in form.errors.items()}


def formations_pour(request, params, *, form: RechercheForm | None = None) -> tuple[QuerySet, dict[str, list[str]]]:
    """(formations matching `params`, sorted as asked; errors by field name, empty when the criteria are valid).

    `params` is a QueryDict or a dict of the search form's fields (the URL's parameters). With invalid
    criteria the queryset is empty and the errors are French messages keyed by field ("__all__" for the
    form as a whole).
    """
    form = form or formulaire_pour(request, params)
    visibles = organisme_scope(request, Formation.objects.all())
    if not form.is_valid():
        return visibles.none(), _erreurs(form)
    return rechercher(visibles, form.criteres()).select_related("organisme"), {}


@dataclass
class Resultat:
    formation: Formation
    prochaine_session: datetime.date | None
    mise_a_jour: datetime.datetime


@dataclass
class PageDeResultats:
    form: RechercheForm
    erreurs: dict[str, list[str]]
    page: Page | None = None
    resultats: list[Resultat] = field(default_factory=list)
    # More than PLAFOND_COMPTE documents for the words: sorted by intitulé instead of relevance.
    pertinence_plafonnee: bool = False

    @property
    def total(self) -> int:
        """How many formations match, PLAFOND_COMPTE at most (see `plafond_atteint`)."""
        return min(self.page.paginator.count, PLAFOND_COMPTE) if self.page is not None else 0

    @property
    def plafond_atteint(self) -> bool:
        return self.page is not None and self.page.paginator.plafond_atteint


def _prochaines_sessions(document_ids) -> dict[int, str]:
    """The next session start (ISO) of each document of the page: one query."""
    lignes = (
        CritereRecherche.objects.filter(
            document_id__in=document_ids,
            nom=CritereRecherche.Nom.DEBUT,
            valeur__gte=timezone.localdate().isoformat(),
        )
        .values("document_id")
        .annotate(prochaine=Min("valeur"))
    )
    return {ligne["document_id"]: ligne["prochaine"] for ligne in lignes}


@contextmanager
def index_plein_texte(texte: str, kind: str):
    """The words of `texte` answered from the full-text index of `kind` alone in this block (nothing to do without
    words).

    - PostgreSQL: the GIN index, never a table scan. A very common word matches most documents, and the planner
      then prefers reading the whole table, testing each (TOASTed) full vector; the GIN index answers the match
      without reading them (bench/bench_search.py). The setting is local to the transaction and put back as it
      was at the end of the block.
    - SQLite: the matching rowids copied once into a temporary table (query.correspondances_materialisees), which
      the count, the page and the choice of order then probe instead of reading the match again each.
    """
    if not a_des_mots(texte):
        yield
        return
    if connection.vendor == "sqlite":
        with correspondances_materialisees(texte, kind):
            yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        avant = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        yield
        # (On an error, rolling back the block's savepoint undoes the setting.)
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [avant])


def page_pour(request, params, numero=None, *, par_page: int = PAR_PAGE) -> PageDeResultats:
    """One page of the search page's results (the page number is checked: a bad one gives the first or last)."""
    form = formulaire_pour(request, params)
    if not form.is_valid():
        return PageDeResultats(form=form, erreurs=_erreurs(form))
    organisme_id = None
    if not request.user.is_staff:
        contact = current_contact(request)
        if contact is None:
            return PageDeResultats(form=form, erreurs={})
        organisme_id = contact.organisme_id
    criteres = form.criteres()
    with index_plein_texte(criteres.texte, Kind.OFFRE):
        documents, compte, plafonne = documents_classes(criteres, kind=Kind.OFFRE, organisme_id=organisme_id)
        page = PaginatorPlafonne(
            documents.values_list("pk", "formation_id", "mise_a_jour"), par_page, compte=compte
        ).get_page(numero)
        lignes = list(page.object_list)
    # The formations themselves, through the gate's scope again.
    formations = organisme_scope(request, Formation.objects.filter(pk__in=[f for _, f, _ in lignes]))
    par_id = {f.pk: f for f in formations.select_related("organisme")}
    prochaines = _prochaines_sessions([d for d, _, _ in lignes]) if lignes else {}
    resultats = [
        Resultat(
            formation=par_id[formation_id],
            prochaine_session=datetime.date.fromisoformat(prochaines[doc_id]) if doc_id in prochaines else None,
            mise_a_jour=mise_a_jour,
        )
        for doc_id, formation_id, mise_a_jour in lignes
        if formation_id in par_id
    ]
    return PageDeResultats(form=form, erreurs={}, page=page, resultats=resultats, pertinence_plafonnee=plafonne)
