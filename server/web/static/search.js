// Köprü label autocomplete: asks the search form's action (JSON) as you type; keyboard friendly.
(function () {
  "use strict";
  function setup(input) {
    var form = input.form, list = document.createElement("ul"), timer = null, items = [], active = -1, seq = 0;
    list.className = "ac-list"; list.setAttribute("role", "listbox"); list.hidden = true;
    list.id = input.id + "-ac";
    input.setAttribute("role", "combobox"); input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id); input.setAttribute("aria-expanded", "false");
    form.appendChild(list);
    function close() { list.hidden = true; active = -1; input.setAttribute("aria-expanded", "false"); }
    function render(results) {
      items = results; list.textContent = "";
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option"); li.id = list.id + "-" + i;
        li.appendChild(document.createTextNode(r.label));
        if (r.matched !== r.label) {
          var s = document.createElement("small"); s.textContent = r.matched + " (" + r.matched_lang + ")"; li.appendChild(s);
        }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); window.location.href = r.href; });
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
    }
    function highlight(i) {
      var lis = list.children;
      for (var k = 0; k < lis.length; k++) lis[k].setAttribute("aria-selected", k === i ? "true" : "false");
      active = i;
      if (i >= 0) input.setAttribute("aria-activedescendant", lis[i].id); else input.removeAttribute("aria-activedescendant");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(form.getAttribute("action") + "?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (d) { if (mine === seq) render(d.results || []); })
          .catch(close);
      }, 150);
    });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (ev.key === "Escape") { close(); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); window.location.href = items[active].href; }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }
  document.querySelectorAll("input[data-autocomplete]").forEach(setup);
})();
