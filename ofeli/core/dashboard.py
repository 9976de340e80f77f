"""The OF's tableau de bord."""

from django.shortcuts import redirect, render

from ofeli.organismes.gate import Intent, of_required


@of_required(Intent.READ)
def tableau_de_bord(request):
    if request.user.is_staff:
        return redirect("core:staff_home")
    return render(request, "core/tableau_de_bord.html", {"organisme": request.organisme, "contact": request.contact})
