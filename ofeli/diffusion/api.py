"""The partner API (read-only): partners list their feeds and download the LHEO files.

Authentication: ``Authorization: Bearer <jeton>``; only the token's SHA-256 is stored (JetonPartenaire). A
missing, unknown or revoked token: 401. A run of another partner (or not successful): 404. Each token may make
OFELI_DIFFUSION_API_RATE requests per minute (default 60), then 429 with Retry-After. Every download is recorded
(Telechargement). Described in openapi.yaml (served at /diffusion/api/v1/openapi.yaml).

The gate mark of these views is "partner" (`partner_token`): no session, no CSRF (GET only).
"""

import time
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from ofeli.organismes.gate import public

from .feeds import fichier_run
from .models import DiffusionRun, JetonPartenaire, Telechargement
from .partenaires import empreinte

OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"


def _erreur(status: int, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"erreur": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ofeli-diffusion"'
    return response


def _jeton(request) -> JetonPartenaire | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return (
        JetonPartenaire.objects.select_related("partenaire")
        .filter(empreinte=empreinte(value.strip()), revoked_at__isnull=True)
        .first()
    )


def _limite_atteinte(jeton: JetonPartenaire) -> int:
    """0 when the request may go on, else the seconds to wait (fixed one-minute window per token)."""
    limite = getattr(settings, "OFELI_DIFFUSION_API_RATE", 60)
    now = time.time()
    fenetre = int(now // 60)
    key = f"diffusion-api:{jeton.pk}:{fenetre}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > limite:
        return max(1, int((fenetre + 1) * 60 - now) + 1)
    return 0


def partner_token(view=None, *, parametres=()):
    """Gate of the partner API: a valid token of an active partner, within the rate limit. A query parameter
    the operation does not take is refused (400): a misspelt filter must not silently return everything."""
    if view is None:
        return lambda v: partner_token(v, parametres=parametres)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        jeton = _jeton(request)
        if jeton is None:
            return _erreur(401, "Jeton d'accès absent, inconnu ou révoqué.")
        if not jeton.partenaire.actif:
            return _erreur(403, "Ce partenaire ne reçoit plus le flux.")
        if attente := _limite_atteinte(jeton):
            return _erreur(
                429, f"Trop de requêtes : réessayez dans {attente} secondes.", **{"Retry-After": str(attente)}
            )
        JetonPartenaire.objects.filter(pk=jeton.pk).update(last_used_at=timezone.now())
        request.jeton = jeton
        request.partenaire = jeton.partenaire
        if inconnus := sorted(set(request.GET) - set(parametres)):
            return _erreur(400, f"Paramètre inconnu : « {inconnus[0][:50]} ».")
        return view(request, *args, **kwargs)

    wrapper.ofeli_gate = "partner"
    # No session, no cookie: CSRF does not apply; any other method than GET gets 405 with Allow.
    gated = csrf_exempt(require_GET(wrapper))
    gated.ofeli_gate = "partner"
    return gated


def _run_json(request, run: DiffusionRun) -> dict:
    return {
        "id": run.pk,
        "nuit": run.nuit.isoformat(),
        "type": run.kind,
        "statut": run.statut,
        "tentative": run.tentative,
        "debut": run.started_at.isoformat(),
        "fin": run.finished_at.isoformat() if run.finished_at else None,
        "formations": run.nb_formations,
        "sessions": run.nb_sessions,
        "nouvelles": run.nb_nouvelles,
        "modifiees": run.nb_modifiees,
        "retirees": run.nb_retirees,
        "retraits": run.retraits,
        "sha256": run.sha256 or None,
        "taille": run.taille,
        "fichier": request.build_absolute_uri(reverse("diffusion:api_fichier", args=[run.pk])) if run.fichier else None,
    }


def _runs(request):
    return DiffusionRun.objects.filter(partenaire=request.partenaire, statut=DiffusionRun.Statut.REUSSI)


@partner_token(parametres=("type",))
def flux_liste(request):
    runs = _runs(request).order_by("-nuit", "kind")
    kind = request.GET.get("type")
    if kind is not None:
        if kind not in DiffusionRun.Kind.values:
            return _erreur(400, "Paramètre « type » : attendu « complet » ou « delta ».")
        runs = runs.filter(kind=kind)
    return JsonResponse({"partenaire": request.partenaire.slug, "flux": [_run_json(request, r) for r in runs[:100]]})


def _run(request, run_id) -> DiffusionRun:
    # The URL takes any text: only a positive integer in the database's range can name a run.
    if not (str(run_id).isascii() and str(run_id).isdigit() and 0 < int(run_id) <= 2**63 - 1):
        raise Http404
    run = _runs(request).filter(pk=int(run_id)).first()
    if run is None:
        raise Http404
    return run


@partner_token
def flux_detail(request, run_id: str):
    try:
        return JsonResponse(_run_json(request, _run(request, run_id)))
    except Http404:
        return _erreur(404, "Flux introuvable.")


@partner_token
def flux_fichier(request, run_id: str):
    try:
        run = _run(request, run_id)
    except Http404:
        return _erreur(404, "Flux introuvable.")
    fichier = fichier_run(run)
    if fichier is None:
        return _erreur(404, "Ce flux n'a pas de fichier (aucune formation à transmettre).")
    Telechargement.objects.create(run=run, jeton=request.jeton)
    response = FileResponse(
        fichier,
        content_type="application/xml; charset=utf-8",
        as_attachment=True,
        filename=f"lheo-{run.partenaire.slug}-{run.nuit:%Y%m%d}-{run.kind}.xml",
    )
    response["ETag"] = f'"{run.sha256}"'
    response["X-Content-SHA256"] = run.sha256
    return response


@public
@require_GET
def openapi(request):
    return HttpResponse(OPENAPI.read_bytes(), content_type="application/yaml; charset=utf-8")
