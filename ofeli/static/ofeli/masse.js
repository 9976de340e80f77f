// "Tout cocher sur la page" on the bulk edit and rollover lists (the lists work without it).
document.querySelectorAll("[data-tout-cocher]").forEach((bouton) => {
  const nom = bouton.dataset.toutCocher;
  const cases = () => bouton.closest("form").querySelectorAll(`input[type=checkbox][name="${nom}"]`);
  bouton.classList.remove("d-none");
  bouton.addEventListener("click", () => {
    const toutes = [...cases()].every((c) => c.checked);
    cases().forEach((c) => { c.checked = !toutes; });
    bouton.textContent = toutes ? "Tout cocher sur la page" : "Tout décocher sur la page";
  });
});
