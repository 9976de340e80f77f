"""Screens of the organisme: fiche, lieux, organismes formateurs, contacts, personal data, staff screens.

Every view carries a gate (of_required, authenticated, staff_required). OF screens work on the
contact's current organisme (request.organisme); an id of another organisme's object is a 404
because objects are looked up through organisme_scope.
"""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ofeli.core.permissions import staff_required

from . import services
from .forms import (
    DroitsForm,
    FicheForm,
    FormateurForm,
    IdentiteForm,
    InvitationForm,
    LieuForm,
    RechercheOrganismeForm,
    RefusForm,
    apply_errors,
)
from .gate import Intent, authenticated, contact_allows, of_required, organisme_scope, switch_organisme
from .models import Contact, DemandeModificationIdentite, Lieu, Organisme, OrganismeFormateur

PAGE_SIZE = 25


def _staff_redirect(request):
    """OF screens work on the contact's own organisme; the équipe offre uses its own screens."""
    if request.organisme is None:
        return redirect("organismes:staff_liste")
    return None


def _enregistrer(request, form, action, succes) -> bool:
    """A form posted to a service: True once saved (with the success message), else the service's refusal is put
    on the form's fields. `action(donnees)` calls the service; `succes` is the message, or a function of what the
    service returned."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        resultat = action(form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    messages.success(request, succes(resultat) if callable(succes) else succes)
    return True


def _confirmer(request, *, action, succes, suivant, titre, question, bouton, retour_url):
    """A destructive action behind a confirmation page (works without JavaScript).

    GET shows the question; POST runs `action()` (a service call) and goes to `suivant()` with the
    success message, or shows the service's refusal on the same page (400).
    """
    erreur = None
    if request.method == "POST":
        try:
            action()
        except ValidationError as exc:
            erreur = " ".join(exc.messages)
        else:
            messages.success(request, succes)
            return redirect(suivant())
    return render(
        request,
        "organismes/confirmer.html",
        {"titre": titre, "question": question, "bouton": bouton, "retour_url": retour_url, "erreur": erreur},
        status=400 if erreur else 200,
    )


def _page(request, qs, par_page=50):
    return Paginator(qs, par_page).get_page(request.GET.get("page"))


def _droits(request):
    contact = request.contact
    return {
        "peut_gerer": bool(contact and contact_allows(contact, Intent.GERER)),
        "peut_saisir": bool(contact and contact_allows(contact, Intent.SAISIR)),
    }


def _historique(instance, limit=20):
    """(date, who, changes) for the last changes of an object, newest first."""
    records = list(
        instance.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    rows = []
    for i, record in enumerate(records[:limit]):
        previous = records[i + 1] if i + 1 < len(records) else None
        if previous is None:
            changes = ["Création"] if record.history_type == "+" else []
        else:
            delta = record.diff_against(previous)
            changes = [record.instance._meta.get_field(c.field).verbose_name for c in delta.changes]
        rows.append(
            {
                "date": record.history_date,
                "par": record.history_user,
                "changements": changes,
                "motif": record.history_change_reason,
            }
        )
    return rows


def _fiche_initial(organisme):
    return {name: getattr(organisme, name) for name in services.CHAMPS_FICHE}


# --- fiche organisme -------------------------------------------------------------------------


@of_required(Intent.READ)
def fiche(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    organisme = request.organisme
    return render(
        request,
        "organismes/fiche.html",
        {
            "organisme": organisme,
            "demande_en_attente": organisme.demandes_identite.filter(
                statut=DemandeModificationIdentite.Statut.EN_ATTENTE
            ).first(),
            "demandes": organisme.demandes_identite.select_related("traitee_par")[:10],
            "historique": _historique(organisme),
            "onglet": "fiche",
            **_droits(request),
        },
    )


@of_required(Intent.GERER)
def fiche_modifier(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    organisme = request.organisme
    form = FicheForm(request.POST or None, initial=_fiche_initial(organisme))
    if _enregistrer(
        request,
        form,
        lambda donnees: services.organisme_modifier(organisme=organisme, par=request.user, donnees=donnees),
        "La fiche de l'organisme est enregistrée.",
    ):
        return redirect("organismes:fiche")
    return render(request, "organismes/fiche_modifier.html", {"form": form, "organisme": organisme, "onglet": "fiche"})


@of_required(Intent.GERER)
def identite_demander(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    organisme = request.organisme
    en_attente = organisme.demandes_identite.filter(statut=DemandeModificationIdentite.Statut.EN_ATTENTE).first()
    form = IdentiteForm(
        request.POST or None,
        initial={"raison_sociale": organisme.raison_sociale, "siret": organisme.siret, "nda": organisme.nda or ""},
    )
    if request.method == "POST" and en_attente is None and form.is_valid():
        try:
            services.demande_identite_creer(organisme=organisme, par=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                "Votre demande de modification est envoyée à l'équipe offre : la fiche changera quand elle "
                "l'aura acceptée.",
            )
            return redirect("organismes:fiche")
    return render(
        request,
        "organismes/identite.html",
        {"form": form, "organisme": organisme, "en_attente": en_attente, "onglet": "fiche"},
    )


# --- lieux de formation ----------------------------------------------------------------------


@of_required(Intent.READ)
def lieux(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    qs = organisme_scope(request, Lieu.objects.all()).select_related("commune").order_by("-actif", "ville")
    return render(
        request,
        "organismes/lieux.html",
        {"organisme": request.organisme, "lieux": (page := _page(request, qs)), "page": page, "onglet": "lieux"}
        | _droits(request),
    )


def _lieu(request, lieu_id):
    return get_object_or_404(organisme_scope(request, Lieu.objects.all()), pk=lieu_id)


@of_required(Intent.GERER)
def lieu_ajouter(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    form = LieuForm(request.POST or None)
    if _enregistrer(
        request,
        form,
        lambda donnees: services.lieu_creer(organisme=request.organisme, par=request.user, donnees=donnees),
        lambda lieu: f"Le lieu de formation « {lieu} » est ajouté.",
    ):
        return redirect("organismes:lieux")
    return render(request, "organismes/lieu_form.html", {"form": form, "lieu": None, "onglet": "lieux"})


@of_required(Intent.GERER)
def lieu_modifier(request, lieu_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    lieu = _lieu(request, lieu_id)
    initial = {name: getattr(lieu, name) for name in services.CHAMPS_LIEU}
    form = LieuForm(request.POST or None, initial=initial)
    if _enregistrer(
        request,
        form,
        lambda donnees: services.lieu_modifier(lieu=lieu, par=request.user, donnees=donnees),
        "Le lieu de formation est enregistré.",
    ):
        return redirect("organismes:lieux")
    return render(request, "organismes/lieu_form.html", {"form": form, "lieu": lieu, "onglet": "lieux"})


@of_required(Intent.GERER)
def lieu_desactiver(request, lieu_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    lieu = _lieu(request, lieu_id)
    return _confirmer(
        request,
        action=lambda: services.lieu_desactiver(lieu=lieu, par=request.user),
        succes=f"Le lieu « {lieu} » est désactivé : il n'est plus proposé pour les sessions.",
        suivant=lambda: reverse("organismes:lieux"),
        titre="Désactiver un lieu de formation",
        question=f"Désactiver le lieu « {lieu} » ? Il ne sera plus proposé pour les nouvelles sessions ; "
        "les sessions qui le citent le gardent.",
        bouton="Désactiver le lieu",
        retour_url=reverse("organismes:lieux"),
    )


@of_required(Intent.GERER)
@require_POST
def lieu_reactiver(request, lieu_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    lieu = services.lieu_reactiver(lieu=_lieu(request, lieu_id), par=request.user)
    messages.success(request, f"Le lieu « {lieu} » est réactivé.")
    return redirect("organismes:lieux")


# --- organismes formateurs -------------------------------------------------------------------


@of_required(Intent.READ)
def formateurs(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    qs = (
        organisme_scope(request, OrganismeFormateur.objects.all())
        .select_related("organisme_connu")
        .order_by("-actif", "raison_sociale")
    )
    return render(
        request,
        "organismes/formateurs.html",
        {
            "organisme": request.organisme,
            "formateurs": (page := _page(request, qs)),
            "page": page,
            "onglet": "formateurs",
        }
        | _droits(request),
    )


def _formateur(request, formateur_id):
    return get_object_or_404(organisme_scope(request, OrganismeFormateur.objects.all()), pk=formateur_id)


@of_required(Intent.GERER)
def formateur_ajouter(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    form = FormateurForm(request.POST or None)
    if _enregistrer(
        request,
        form,
        lambda donnees: services.formateur_creer(organisme=request.organisme, par=request.user, **donnees),
        lambda formateur: f"L'organisme formateur « {formateur} » est ajouté.",
    ):
        return redirect("organismes:formateurs")
    return render(request, "organismes/formateur_form.html", {"form": form, "formateur": None, "onglet": "formateurs"})


@of_required(Intent.GERER)
def formateur_modifier(request, formateur_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    formateur = _formateur(request, formateur_id)
    form = FormateurForm(
        request.POST or None, initial={"siret": formateur.siret, "raison_sociale": formateur.raison_sociale}
    )
    if _enregistrer(
        request,
        form,
        lambda donnees: services.formateur_modifier(formateur=formateur, par=request.user, **donnees),
        "L'organisme formateur est enregistré.",
    ):
        return redirect("organismes:formateurs")
    return render(
        request, "organismes/formateur_form.html", {"form": form, "formateur": formateur, "onglet": "formateurs"}
    )


@of_required(Intent.GERER)
def formateur_desactiver(request, formateur_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    formateur = _formateur(request, formateur_id)
    return _confirmer(
        request,
        action=lambda: services.formateur_desactiver(formateur=formateur, par=request.user),
        succes=f"L'organisme formateur « {formateur} » est désactivé.",
        suivant=lambda: reverse("organismes:formateurs"),
        titre="Désactiver un organisme formateur",
        question=f"Désactiver l'organisme formateur « {formateur} » ? Il ne sera plus proposé pour les "
        "nouvelles sessions ; les sessions qui le citent le gardent.",
        bouton="Désactiver l'organisme formateur",
        retour_url=reverse("organismes:formateurs"),
    )


@of_required(Intent.GERER)
@require_POST
def formateur_reactiver(request, formateur_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    formateur = services.formateur_reactiver(formateur=_formateur(request, formateur_id), par=request.user)
    messages.success(request, f"L'organisme formateur « {formateur} » est réactivé.")
    return redirect("organismes:formateurs")


# --- contacts ----------------------------------------------------------------------------


@of_required(Intent.READ)
def contacts(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    qs = (
        organisme_scope(request, Contact.objects.all())
        .select_related("user")
        .order_by("-actif", "user__last_name", "user__first_name", "pk")
    )
    return render(
        request,
        "organismes/contacts.html",
        {"organisme": request.organisme, "contacts": (page := _page(request, qs)), "page": page, "moi": request.contact}
        | _droits(request),
    )


def _contact(request, contact_id):
    return get_object_or_404(organisme_scope(request, Contact.objects.select_related("user")), pk=contact_id)


@of_required(Intent.GERER)
def contact_inviter(request):
    if (response := _staff_redirect(request)) is not None:
        return response
    form = InvitationForm(request.POST or None)
    if _enregistrer(
        request,
        form,
        lambda donnees: services.contact_inviter(organisme=request.organisme, par=request.user, **donnees),
        lambda contact: (
            f"{contact.user.get_full_name()} est ajouté(e) aux contacts ; un e-mail lui est envoyé à "
            f"{contact.user.email}."
        ),
    ):
        return redirect("organismes:contacts")
    return render(request, "organismes/contact_inviter.html", {"form": form})


def _droits_enregistrer(request, contact):
    """The rights form of a contact (OF manager or staff): None once saved, else the form to show again."""
    form = DroitsForm(
        request.POST or None,
        initial={"fonction": contact.fonction, "peut_gerer": contact.peut_gerer, "peut_saisir": contact.peut_saisir},
    )
    if _enregistrer(
        request,
        form,
        lambda donnees: services.contact_modifier_droits(contact=contact, par=request.user, **donnees),
        f"Les droits de {contact.user} sont enregistrés.",
    ):
        return None
    return form


@of_required(Intent.GERER)
def contact_modifier(request, contact_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    contact = _contact(request, contact_id)
    form = _droits_enregistrer(request, contact)
    if form is None:
        return redirect("organismes:contacts")
    return render(request, "organismes/contact_modifier.html", {"form": form, "contact": contact})


@of_required(Intent.GERER)
def contact_desactiver(request, contact_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    contact = _contact(request, contact_id)
    return _confirmer(
        request,
        action=lambda: services.contact_desactiver(contact=contact, par=request.user),
        succes=f"{contact.user} n'a plus accès à OFeli pour votre organisme.",
        suivant=lambda: reverse("core:home" if contact.pk == request.contact.pk else "organismes:contacts"),
        titre="Désactiver un contact",
        question=f"Désactiver {contact.user} ? Cette personne n'aura plus accès à OFeli pour votre organisme ; "
        "son historique et l'offre qu'elle a saisie sont conservés.",
        bouton="Désactiver le contact",
        retour_url=reverse("organismes:contacts"),
    )


@of_required(Intent.GERER)
@require_POST
def contact_reactiver(request, contact_id):
    if (response := _staff_redirect(request)) is not None:
        return response
    contact = _contact(request, contact_id)
    try:
        services.contact_reactiver(contact=contact, par=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{contact.user} a de nouveau accès à OFeli pour votre organisme.")
    return redirect("organismes:contacts")


# --- switching organisme, personal data ------------------------------------------------------


@authenticated
@require_POST
def changer_organisme(request):
    """Header switcher: a contact of several OFs chooses the one they work on (404 if not theirs)."""
    try:
        organisme_id = int(request.POST.get("organisme", ""))
    except ValueError:
        organisme_id = 0
    contact = switch_organisme(request, organisme_id)
    messages.info(request, f"Vous travaillez maintenant pour {contact.organisme}.")
    suivant = request.POST.get("next", "")
    if suivant and url_has_allowed_host_and_scheme(suivant, allowed_hosts={request.get_host()}):
        return redirect(suivant)
    return redirect("core:home")


@authenticated
def mes_donnees(request):
    return render(request, "organismes/mes_donnees.html", {"donnees": services.mes_donnees(user=request.user)})


@authenticated
def mes_donnees_export(request):
    data = services.mes_donnees(user=request.user)
    data["exporte_le"] = timezone.now().isoformat()
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="ofeli-mes-donnees.json"'
    return response


# --- staff screens -----------------------------------------------------------------------


@staff_required
def staff_liste(request):
    form = RechercheOrganismeForm(request.GET or None)
    qs = Organisme.objects.annotate(
        nb_contacts=Count("contacts", filter=Q(contacts__actif=True)),
        nb_demandes=Count(
            "demandes_identite", filter=Q(demandes_identite__statut=DemandeModificationIdentite.Statut.EN_ATTENTE)
        ),
    ).order_by("raison_sociale", "pk")
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        condition = Q(raison_sociale__icontains=q) | Q(nom__icontains=q) | Q(sigle__icontains=q)
        if digits and len(digits) >= 3:
            condition |= Q(siret__startswith=digits) | Q(nda__startswith=digits)
        qs = qs.filter(condition)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "organismes/staff_liste.html",
        {
            "form": form,
            "q": q,
            "page": page,
            "nb_demandes": DemandeModificationIdentite.objects.filter(
                statut=DemandeModificationIdentite.Statut.EN_ATTENTE
            ).count(),
        },
    )


@staff_required
def staff_detail(request, organisme_id):
    organisme = get_object_or_404(Organisme, pk=organisme_id)
    return render(
        request,
        "organismes/staff_detail.html",
        {
            "organisme": organisme,
            "contacts": organisme.contacts.select_related("user").order_by("-actif", "user__last_name", "pk"),
            "lieux": organisme.lieux.order_by("-actif", "ville"),
            "formateurs": organisme.formateurs.select_related("organisme_connu").order_by("-actif", "raison_sociale"),
            "demandes": organisme.demandes_identite.select_related("demandee_par", "traitee_par"),
            "historique": _historique(organisme),
        },
    )


@staff_required
def staff_demandes(request):
    statut = request.GET.get("statut", DemandeModificationIdentite.Statut.EN_ATTENTE)
    if statut not in DemandeModificationIdentite.Statut.values:
        statut = DemandeModificationIdentite.Statut.EN_ATTENTE
    qs = DemandeModificationIdentite.objects.filter(statut=statut).select_related("organisme", "demandee_par")
    page = Paginator(qs.order_by("demandee_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "organismes/staff_demandes.html",
        {"page": page, "statut": statut, "statuts": DemandeModificationIdentite.Statut.choices},
    )


@staff_required
def staff_demande(request, demande_id):
    demande = get_object_or_404(
        DemandeModificationIdentite.objects.select_related("organisme", "demandee_par", "traitee_par"), pk=demande_id
    )
    form = RefusForm()
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "accepter":
                services.demande_identite_accepter(demande=demande, par=request.user)
                messages.success(request, f"La demande est acceptée : la fiche de {demande.organisme} est modifiée.")
                return redirect("organismes:staff_demandes")
            if decision == "refuser":
                form = RefusForm(request.POST)
                if form.is_valid():
                    services.demande_identite_refuser(
                        demande=demande, par=request.user, motif=form.cleaned_data["motif_refus"]
                    )
                    messages.success(request, "La demande est refusée ; l'organisme en est informé.")
                    return redirect("organismes:staff_demandes")
            else:
                messages.error(request, "Choisissez d'accepter ou de refuser la demande.")
        except ValidationError as exc:
            apply_errors(form, exc)
            if decision == "accepter":
                messages.error(request, " ".join(exc.messages))
    return render(request, "organismes/staff_demande.html", {"demande": demande, "form": form})


def _staff_contact(contact_id):
    return get_object_or_404(Contact.objects.select_related("user", "organisme"), pk=contact_id)


@staff_required
def staff_contact_ajouter(request, organisme_id):
    """The équipe offre adds a contact to an OF (e.g. an organisme preloaded by an import, with no contact yet)."""
    organisme = get_object_or_404(Organisme, pk=organisme_id)
    form = InvitationForm(request.POST or None)
    if _enregistrer(
        request,
        form,
        lambda donnees: services.contact_inviter(organisme=organisme, par=request.user, **donnees),
        lambda contact: (
            f"{contact.user.get_full_name()} est ajouté(e) aux contacts de {organisme} ; un e-mail lui est "
            f"envoyé à {contact.user.email}."
        ),
    ):
        return redirect("organismes:staff_detail", organisme_id=organisme.pk)
    return render(request, "organismes/staff_contact_form.html", {"form": form, "organisme": organisme})


@staff_required
def staff_contact_modifier(request, contact_id):
    contact = _staff_contact(contact_id)
    form = _droits_enregistrer(request, contact)
    if form is None:
        return redirect("organismes:staff_detail", organisme_id=contact.organisme_id)
    return render(
        request,
        "organismes/staff_contact_form.html",
        {"form": form, "organisme": contact.organisme, "contact": contact},
    )


@staff_required
def staff_contact_desactiver(request, contact_id):
    contact = _staff_contact(contact_id)
    return _confirmer(
        request,
        action=lambda: services.contact_desactiver(contact=contact, par=request.user),
        succes=f"{contact.user} n'a plus accès à OFeli pour {contact.organisme}.",
        suivant=lambda: reverse("organismes:staff_detail", args=[contact.organisme_id]),
        titre="Désactiver un contact",
        question=f"Désactiver {contact.user} pour {contact.organisme} ? Cette personne n'aura plus accès à "
        "OFeli pour cet organisme ; son historique et l'offre qu'elle a saisie sont conservés.",
        bouton="Désactiver le contact",
        retour_url=reverse("organismes:staff_detail", args=[contact.organisme_id]),
    )


@staff_required
@require_POST
def staff_contact_reactiver(request, contact_id):
    contact = _staff_contact(contact_id)
    try:
        services.contact_reactiver(contact=contact, par=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{contact.user} a de nouveau accès à OFeli pour {contact.organisme}.")
    return redirect("organismes:staff_detail", organisme_id=contact.organisme_id)


@staff_required
def staff_contact_anonymiser(request, contact_id):
    contact = _staff_contact(contact_id)
    return _confirmer(
        request,
        action=lambda: services.contact_anonymiser(contact=contact, par=request.user),
        succes="Le contact est anonymisé ; l'offre qu'il a saisie est conservée.",
        suivant=lambda: reverse("organismes:staff_detail", args=[contact.organisme_id]),
        titre="Anonymiser un ancien contact",
        question=f"Anonymiser {contact.user} ({contact.user.email}) ? Ses nom, prénom, adresse e-mail et "
        "téléphone seront remplacés et son compte fermé, définitivement ; l'offre qu'il a saisie est conservée.",
        bouton="Anonymiser définitivement",
        retour_url=reverse("organismes:staff_detail", args=[contact.organisme_id]),
    )
