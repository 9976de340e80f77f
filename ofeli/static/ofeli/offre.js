/* OFeli — offer entry: tabs over the sections of a form (data-ofeli-onglets).
   Progressive enhancement only: without this script the sections stack one under the other. */
(function () {
  "use strict";

  function initOnglets(root) {
    var liste = root.querySelector("[data-ofeli-onglets-liste]");
    var liens = Array.prototype.slice.call(root.querySelectorAll("[data-ofeli-onglet]"));
    var panneaux = Array.prototype.slice.call(root.querySelectorAll("[data-ofeli-panneau]"));
    if (!liste || liens.length < 2) { return; }
    liste.setAttribute("role", "tablist");
    Array.prototype.forEach.call(liste.children, function (li) { li.setAttribute("role", "presentation"); });

    function montrer(id, focus) {
      liens.forEach(function (lien) {
        var actif = lien.getAttribute("data-ofeli-onglet") === id;
        lien.classList.toggle("active", actif);
        lien.setAttribute("aria-selected", actif ? "true" : "false");
        lien.setAttribute("tabindex", actif ? "0" : "-1");
        if (actif && focus) { lien.focus(); }
      });
      panneaux.forEach(function (panneau) { panneau.hidden = panneau.id !== id; });
    }

    liens.forEach(function (lien, index) {
      var id = lien.getAttribute("data-ofeli-onglet");
      lien.id = "tab-" + id;
      lien.setAttribute("role", "tab");
      lien.setAttribute("aria-controls", id);
      lien.addEventListener("click", function (event) {
        event.preventDefault();
        montrer(id, false);
      });
      lien.addEventListener("keydown", function (event) {
        var cible = null;
        if (event.key === "ArrowRight") { cible = liens[(index + 1) % liens.length]; }
        if (event.key === "ArrowLeft") { cible = liens[(index - 1 + liens.length) % liens.length]; }
        if (event.key === "Home") { cible = liens[0]; }
        if (event.key === "End") { cible = liens[liens.length - 1]; }
        if (cible) {
          event.preventDefault();
          montrer(cible.getAttribute("data-ofeli-onglet"), true);
        }
      });
    });
    panneaux.forEach(function (panneau) {
      panneau.setAttribute("role", "tabpanel");
      panneau.setAttribute("aria-labelledby", "tab-" + panneau.id);
      panneau.setAttribute("tabindex", "0");
      var titre = panneau.querySelector("h2");
      if (titre) { titre.classList.add("visually-hidden"); }
    });

    // The first tab with an error, else the one named in the URL, else the first.
    var enErreur = root.querySelector("[data-ofeli-panneau][data-ofeli-erreurs]");
    var depuisUrl = window.location.hash ? root.querySelector(window.location.hash + "[data-ofeli-panneau]") : null;
    montrer((enErreur || depuisUrl || panneaux[0]).id, false);

    // A field the browser or the user jumps to inside a hidden tab: show that tab.
    root.addEventListener("focusin", function (event) {
      var panneau = event.target.closest("[data-ofeli-panneau]");
      if (panneau && panneau.hidden) { montrer(panneau.id, false); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-ofeli-onglets]"), initOnglets);
  });
})();
