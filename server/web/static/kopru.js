// Köprü pages: small behaviours that work without a build step or a library.
(function () {
  "use strict";
  // Keep the reader's language: on a page opened with ?lang=xx, every link
  // to another page of this site (and every search) carries it on.
  var lang = new URLSearchParams(location.search).get("lang");
  if (lang && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang)) {
    var withLang = function (href) {
      var url = new URL(href, location.href);
      if (url.origin !== location.origin || url.pathname.indexOf("/static/") === 0 ||
          url.searchParams.has("lang")) return null;
      url.searchParams.set("lang", lang);
      return url.href;
    };
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest && ev.target.closest("a[href]");
      if (!a || a.target || ev.defaultPrevented) return;
      var raw = a.getAttribute("href");
      if (raw.charAt(0) === "#") return;              // same page
      var href = withLang(a.href && a.href.baseVal !== undefined ? a.href.baseVal : a.href);
      if (href) a.setAttribute("href", href);
    }, true);
    document.querySelectorAll("form[role=search]").forEach(function (form) {
      if (form.querySelector("input[name=lang]")) return;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "lang"; input.value = lang;
      form.appendChild(input);
    });
  }
  // On a phone, the browse filters start folded away.
  if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    document.querySelectorAll("details.facets-box[open]").forEach(function (d) { d.open = false; });
  }
})();
