// Köprü's query page: YASGUI with this endpoint only, the example gallery
// (grouped, searchable), share links that open the shared query, and result
// IRIs that lead to this site's own pages. Reads its settings from the
// JSON in <script id="query-ui-config">.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("query-ui-config").textContent);
  var endpoint = location.origin + location.pathname;
  var examples = config.examples;
  var BASE = "https://w3id.org/kopru/";
  document.getElementById("endpoint-url").textContent = endpoint;

  // Only local completion: the prefix.cc and LOV completers would call out.
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  Yasgui.Yasr.defaults.prefixes = config.prefixes;

  var params = new URLSearchParams(location.search);
  // A link shared by YASGUI itself carries the query after '#'.
  var hash = new URLSearchParams(location.hash.slice(1));
  var shared = hash.get("query");
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST",
                     acceptHeaderGraph: "text/turtle", acceptHeaderSelect: "application/sparql-results+json" },
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    copyEndpointOnNewTab: true,
    persistenceId: params.has("query") || params.has("example") || shared ? null : "kopru-yasgui",
    populateFromUrl: false,
    yasqe: { value: config.initial },
  });

  // Share: a plain /sparql?query=…&run=1 link, which opens and runs the
  // query (and works without JavaScript too).
  function shareLink(tab) {
    return endpoint + "?" + new URLSearchParams({ query: tab.getQuery(), run: "1" }).toString();
  }
  function patch(tab) {
    if (tab && !tab.kopruShare) {
      tab.getShareableLink = function () { return shareLink(tab); };
      tab.kopruShare = true;
    }
  }
  var tab = yasgui.getTab();
  tab.setEndpoint(endpoint);
  patch(tab);
  yasgui.on("tabSelect", function (y, id) { setTimeout(function () { patch(y.getTab(id)); }, 0); });
  yasgui.on("tabAdd", function (y, id) { setTimeout(function () { patch(y.getTab(id)); }, 0); });

  if (shared) {
    tab.setQuery(shared);
  } else if (params.has("query")) {
    tab.setQuery(config.initial);
  }

  // The examples: click to run; the filter box narrows the list.
  function runExample(i) {
    var t = yasgui.getTab();
    t.setQuery(examples[i].query);
    t.query();
  }
  document.querySelectorAll("#examples .example").forEach(function (b) {
    b.addEventListener("click", function () { runExample(+b.dataset.index); });
  });
  var filter = document.getElementById("example-filter");
  function fold(s) { return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/ı/g, "i").toLowerCase(); }
  if (filter) {
    filter.addEventListener("input", function () {
      var words = fold(filter.value).split(/\s+/).filter(Boolean), shown = 0;
      document.querySelectorAll("#examples .example-group").forEach(function (g) {
        var any = false;
        g.querySelectorAll(".example").forEach(function (b) {
          var text = fold(b.textContent + " " + examples[+b.dataset.index].query);
          var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
          b.hidden = !hit;
          if (hit) { any = true; shown++; }
        });
        g.hidden = !any;
      });
      document.getElementById("example-count").textContent =
        words.length ? shown + " / " + examples.length : String(examples.length);
    });
  }

  // Shareable links: /sparql?example=<slug> opens an example, &run=1 runs it;
  // /sparql?query=…&run=1 runs a query.
  var ex = params.get("example");
  if (ex !== null) {
    var i = examples.findIndex(function (e, k) { return e.slug === ex || String(k) === ex; });
    if (i >= 0) { tab.setQuery(examples[i].query); }
  }
  if (params.get("run") === "1" || hash.get("run") === "1" || shared) tab.query();

  // Results: IRIs of this dataset open this site's page for them, here.
  function localise(root) {
    root.querySelectorAll('a[href^="' + BASE + '"]').forEach(function (a) {
      var rest = a.getAttribute("href").slice(BASE.length);
      // Shapes are documented with the ontology (as the pages link them).
      a.setAttribute("href", rest.indexOf("shapes") === 0 ? "/ontology#shape-" + rest.split("#").pop() : "/" + rest);
      a.removeAttribute("target");
      a.title = a.title || "Open this entity's page";
    });
  }
  var results = document.getElementById("yasgui");
  new MutationObserver(function () { localise(results); })
    .observe(results, { childList: true, subtree: true });
})();
