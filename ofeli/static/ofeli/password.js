/* Password rules shown as the user types (accounts.passwords is the reference; the server
 * checks again on submit). Hooked on <input data-password-rules="ID of the rules list">;
 * each <li data-rule="code"> of the list is marked as met or not. No JS: the list stays a
 * plain list of the rules. */
(function () {
  "use strict";
  var checks = {
    length: function (p) { return Array.from(p).length >= 8; },
    upper: function (p) { return /\p{Lu}/u.test(p); },
    special: function (p) { return /[^\p{L}\p{N}]/u.test(p); },
    lower_or_digit: function (p) { return /[\p{Ll}\p{Nd}]/u.test(p); }
  };

  function update(input, list) {
    var value = input.value;
    list.querySelectorAll("li[data-rule]").forEach(function (item) {
      var check = checks[item.dataset.rule];
      if (!check) { return; }
      var icon = item.querySelector(".ofeli-regle-icone");
      var status = item.querySelector(".ofeli-regle-statut");
      if (!value) {
        item.classList.remove("text-success", "text-danger");
        if (icon) { icon.textContent = "•"; }
        if (status) { status.textContent = ""; }
        return;
      }
      var ok = check(value);
      item.classList.toggle("text-success", ok);
      item.classList.toggle("text-danger", !ok);
      if (icon) { icon.textContent = ok ? "✓" : "✗"; }
      if (status) { status.textContent = ok ? " (respectée)" : " (non respectée)"; }
    });
  }

  function init() {
    document.querySelectorAll("input[data-password-rules]").forEach(function (input) {
      var list = document.getElementById(input.dataset.passwordRules);
      if (!list) { return; }
      input.addEventListener("input", function () { update(input, list); });
      update(input, list);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
