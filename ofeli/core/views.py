import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from ofeli.organismes.gate import public

from .permissions import staff_required


@public
def home(request):
    """Where "/" leads: staff to their home, an OF contact to its tableau de bord."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.user.is_staff:
        return redirect("core:staff_home")
    return redirect("core:tableau_de_bord")


@staff_required
def staff_home(request):
    """The équipe offre's home: errors to deal with, then the pictures of the offer, the validation delay and the
    diffusion runs. POST "acquitter" acknowledges one error (a form per error: works without JavaScript)."""
    from . import alertes, dashboard

    if request.method == "POST":
        try:
            alertes.alerte_acquitter(cle=request.POST.get("acquitter", ""), user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Alerte acquittée : elle ne s'affiche plus sur l'accueil.")
        return redirect("core:staff_home")
    return render(
        request,
        "core/staff_home.html",
        {"alertes": alertes.alertes(), "graphiques": dashboard.graphiques_staff()},
    )


@public
def politique_donnees(request):
    return render(request, "core/politique_donnees.html", {})


def _outbox_dir() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


def _outbox_available():
    return settings.DEBUG and settings.EMAIL_BACKEND == "ofeli.core.mail.EmlFileBackend"


def _date_courriel(valeur):
    """The Date header as a local datetime (shown JJ/MM/AAAA HH:MM), or the raw text when unreadable."""
    from email.utils import parsedate_to_datetime

    from django.utils import timezone

    try:
        moment = parsedate_to_datetime(str(valeur))
    except (TypeError, ValueError):
        return valeur
    if timezone.is_naive(moment):  # "-0000": UTC, zone not said
        moment = moment.replace(tzinfo=datetime.UTC)
    return timezone.localtime(moment)


def _parse(path: Path):
    with path.open("rb") as fh:
        msg = BytesParser(policy=policy.default).parse(fh)
    body = msg.get_body(preferencelist=("plain", "html"))
    return {
        "name": path.name,
        "to": msg["To"],
        "subject": msg["Subject"],
        "date": _date_courriel(msg["Date"]),
        "body": body.get_content() if body else "",
    }


@staff_required
def mail_outbox(request):
    """Development only: the e-mails written to var/mail/, so a demo user can open a link."""
    if not _outbox_available():
        raise Http404
    directory = _outbox_dir()
    files = (
        sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:200]
        if directory.exists()
        else []
    )
    return render(request, "core/mail_outbox.html", {"messages_list": [_parse(p) for p in files]})


@staff_required
def mail_message(request, name):
    if not _outbox_available():
        raise Http404
    path = (_outbox_dir() / name).resolve()
    if path.parent != _outbox_dir().resolve() or not path.is_file():
        raise Http404
    return render(request, "core/mail_message.html", {"message": _parse(path)})
