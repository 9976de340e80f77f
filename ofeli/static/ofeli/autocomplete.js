/*
 * Suggestions for referential code fields (ofeli/referentiels/fields.py).
 *
 * Progressive enhancement: an <input data-autocomplete="URL"> works as a plain text input where the user types
 * codes. With this script, typing fetches URL?q=…&format=html (an HTML fragment of <option> elements rendered
 * by the server) into the input's <datalist>, so the browser shows the suggestions. With
 * data-autocomplete-multiple, only the last code typed (after a comma, a semicolon or a space) is completed and
 * the codes already typed are kept.
 */
(function () {
  "use strict";

  var DELAY_MS = 200;

  function split(value, multiple) {
    if (!multiple) {
      return { prefix: "", term: value.trim() };
    }
    // "45234, 18033, orl" -> codes already typed "45234, 18033" and the term being typed "orl".
    var match = value.match(/^(.*[,;\s])?([^,;\s]*)$/);
    var done = match && match[1] ? match[1].replace(/[,;\s]+$/, "") : "";
    return { prefix: done ? done + ", " : "", term: match ? match[2] : value };
  }

  function enhance(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || input.dataset.autocompleteReady) {
      return;
    }
    input.dataset.autocompleteReady = "true";
    var multiple = input.dataset.autocompleteMultiple === "true";
    var timer = null;
    var controller = null;

    function fetchSuggestions() {
      var parts = split(input.value, multiple);
      var term = parts.term.trim();
      if (term.length < 2) {
        list.replaceChildren();
        return;
      }
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      var url = new URL(input.dataset.autocomplete, window.location.href);
      url.searchParams.set("q", term);
      url.searchParams.set("format", "html");
      fetch(url, { credentials: "same-origin", signal: controller.signal, headers: { Accept: "text/html" } })
        .then(function (response) {
          return response.ok ? response.text() : "";
        })
        .then(function (html) {
          var template = document.createElement("template");
          template.innerHTML = html;
          var options = template.content.querySelectorAll("option");
          options.forEach(function (option) {
            option.value = parts.prefix + option.value;
          });
          list.replaceChildren.apply(list, Array.prototype.slice.call(options));
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            list.replaceChildren();
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[data-autocomplete][list]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceAll(document);
  });
  // Forms swapped in by htmx get the same behaviour.
  document.addEventListener("htmx:load", function (event) {
    enhanceAll(event.target);
  });
})();
