// Result views for YASGUI's result pane (YASR plugins), drawn as SVG here,
// with nothing loaded from elsewhere: a bar chart for numeric results, a map
// for coordinates (Natural Earth outlines shipped with Köprü), a graph for
// CONSTRUCT and DESCRIBE results. IRIs of this dataset link to its pages.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var BASE = "https://w3id.org/kopru/";
  var NUMERIC = /#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger|gYear)$/;
  var WKT_POINT = /POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)/i;

  function el(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function html(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Where a link to an IRI goes: this site's page, or the IRI when it is a
  // web address; anything else (javascript:…) is not a link.
  function hrefOf(iri) {
    if (iri.indexOf(BASE) === 0) {
      var rest = iri.slice(BASE.length);
      return rest.indexOf("shapes") === 0 ? "/ontology#shape-" + rest.split("#").pop() : "/" + rest;
    }
    return /^https?:\/\//i.test(iri) ? iri : null;
  }
  function shortName(iri, prefixes) {
    for (var p in prefixes) {
      if (iri.indexOf(prefixes[p]) === 0 && iri.length > prefixes[p].length) return p + ":" + iri.slice(prefixes[p].length);
    }
    return iri;
  }
  function cellText(term, prefixes) {
    if (!term) return "";
    return term.type === "uri" ? shortName(term.value, prefixes) : term.value;
  }
  function linked(node, iri) {
    var href = iri && hrefOf(iri);
    if (!href) return node;
    var a = el("a", { href: href });
    a.appendChild(node);
    return a;
  }
  function svgRoot(width, height, title) {
    var svg = el("svg", { xmlns: SVG, viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    svg.appendChild(el("title", {}, title));
    return svg;
  }
  function isNumber(term) {
    return term && term.type !== "uri" && term.type !== "bnode" &&
      ((term.datatype && NUMERIC.test(term.datatype)) || (!term.datatype && !term["xml:lang"] && /^-?\d+(\.\d+)?$/.test(term.value)));
  }
  function prefixesOf(yasr) {
    var p = yasr.getPrefixes ? yasr.getPrefixes() : null;
    return p && Object.keys(p).length ? p : (Yasgui.Yasr.defaults.prefixes || {});
  }

  // --- Chart: a bar per row, for a numeric column ------------------------------------
  function Chart(yasr) { this.yasr = yasr; this.priority = 5; this.label = "Chart"; }
  Chart.prototype.numericVars = function () {
    var r = this.yasr.results, vars = r.getVariables(), rows = r.getBindings() || [];
    return vars.filter(function (v) {
      var seen = rows.filter(function (b) { return b[v]; });
      return seen.length && seen.every(function (b) { return isNumber(b[v]); });
    });
  };
  Chart.prototype.canHandleResults = function () {
    var r = this.yasr.results;
    return !!(r && r.getBindings && r.getBindings() && r.getBindings().length && this.numericVars().length);
  };
  Chart.prototype.getIcon = function () { return html("span", { "class": "kv-icon" }, "▤"); };
  Chart.prototype.draw = function () {
    var self = this, r = this.yasr.results, rows = r.getBindings(), prefixes = prefixesOf(this.yasr);
    var nums = this.numericVars(), vars = r.getVariables();
    var labelVar = vars.filter(function (v) { return nums.indexOf(v) < 0; })[0];
    var box = html("div", { "class": "kv-result kv-chart" });
    var pick = html("label", {}, "Value: ");
    var select = html("select");
    nums.forEach(function (v) { select.appendChild(html("option", { value: v }, "?" + v)); });
    pick.appendChild(select);
    if (nums.length > 1) box.appendChild(pick);
    var holder = html("div");
    box.appendChild(holder);
    function render(valueVar) {
      holder.textContent = "";
      var shown = rows.slice(0, 60).filter(function (b) { return b[valueVar]; });
      var max = Math.max.apply(null, shown.map(function (b) { return Math.abs(+b[valueVar].value); }).concat([0])) || 1;
      var left = 300, barW = 420, rowH = 26, width = left + barW + 150, height = 20 + rowH * shown.length;
      var svg = svgRoot(width, height, "Bar chart of ?" + valueVar);
      shown.forEach(function (b, i) {
        var y = 10 + i * rowH, v = +b[valueVar].value, w = Math.max(1, Math.abs(v) / max * barW);
        var label = labelVar ? cellText(b[labelVar], prefixes) : "row " + (i + 1);
        if (label.length > 44) label = label.slice(0, 43) + "…";
        var iri = labelVar && b[labelVar] && b[labelVar].type === "uri" ? b[labelVar].value : null;
        svg.appendChild(linked(el("text", { x: left - 8, y: y + 15, "text-anchor": "end" }, label), iri));
        svg.appendChild(el("rect", { x: left, y: y + 3, width: w, height: rowH - 8, fill: "#2e7d32" }));
        svg.appendChild(el("text", { x: left + w + 6, y: y + 15, "font-weight": "600" }, v.toLocaleString()));
      });
      holder.appendChild(svg);
      if (rows.length > shown.length) holder.appendChild(html("p", { "class": "note" }, "The first " + shown.length + " of " + rows.length + " rows."));
    }
    select.addEventListener("change", function () { render(select.value); });
    render(nums[0]);
    this.yasr.resultsEl.appendChild(box);
    self.yasr = this.yasr;
  };

  // --- Map: points from WKT literals or latitude/longitude columns -----------------
  var outlines = null;
  function loadOutlines() {
    if (!outlines) {
      outlines = fetch("/static/natural-earth/western-balkans.json").then(function (r) { return r.json(); })
        .catch(function () { return { countries: [] }; });
    }
    return outlines;
  }
  function pointsOf(results, prefixes) {
    var vars = results.getVariables(), out = [];
    var latVar = vars.filter(function (v) { return /^lat(itude)?$/i.test(v); })[0];
    var lonVar = vars.filter(function (v) { return /^(lon|long|longitude|lng)$/i.test(v); })[0];
    (results.getBindings() || []).forEach(function (b) {
      var lon = null, lat = null, used = null;
      vars.forEach(function (v) {
        var m = b[v] && b[v].type !== "uri" && WKT_POINT.exec(b[v].value);
        if (m && lon === null) { lon = +m[1]; lat = +m[2]; used = v; }
      });
      if (lon === null && latVar && lonVar && b[latVar] && b[lonVar]) { lat = +b[latVar].value; lon = +b[lonVar].value; used = latVar; }
      if (lon === null || isNaN(lon) || isNaN(lat)) return;
      var labelVar = vars.filter(function (v) { return v !== used && v !== lonVar && b[v] && b[v].type !== "uri"; })[0];
      var iriVar = vars.filter(function (v) { return b[v] && b[v].type === "uri"; })[0];
      out.push({ lon: lon, lat: lat, label: labelVar ? b[labelVar].value : (iriVar ? cellText(b[iriVar], prefixes) : ""),
                 iri: iriVar ? b[iriVar].value : null });
    });
    return out;
  }
  function MapView(yasr) { this.yasr = yasr; this.priority = 6; this.label = "Map"; }
  MapView.prototype.canHandleResults = function () {
    var r = this.yasr.results;
    return !!(r && r.getBindings && r.getBindings() && pointsOf(r, {}).length);
  };
  MapView.prototype.getIcon = function () { return html("span", { "class": "kv-icon" }, "⌖"); };
  MapView.prototype.draw = function () {
    var yasr = this.yasr, pts = pointsOf(yasr.results, prefixesOf(yasr));
    var box = html("div", { "class": "kv-result kv-map" });
    yasr.resultsEl.appendChild(box);
    loadOutlines().then(function (doc) {
      var f = doc.frame || { west: 13, east: 24, south: 39, north: 47 };
      var west = Math.min.apply(null, pts.map(function (p) { return p.lon - 1; }).concat([f.west]));
      var east = Math.max.apply(null, pts.map(function (p) { return p.lon + 1; }).concat([f.east]));
      var south = Math.min.apply(null, pts.map(function (p) { return p.lat - 1; }).concat([f.south]));
      var north = Math.max.apply(null, pts.map(function (p) { return p.lat + 1; }).concat([f.north]));
      var width = 720, kx = width / (east - west), ky = kx / Math.cos((south + north) / 2 * Math.PI / 180);
      var height = (north - south) * ky;
      function xy(lon, lat) { return [(lon - west) * kx, (north - lat) * ky]; }
      var svg = svgRoot(width, height, "Map of the result's points");
      svg.appendChild(el("rect", { x: 0, y: 0, width: width, height: height, fill: "#dcebf5" }));
      (doc.countries || []).forEach(function (c) {
        var d = c.rings.map(function (ring) {
          return "M" + ring.map(function (p) { var q = xy(p[0], p[1]); return q[0].toFixed(1) + " " + q[1].toFixed(1); }).join("L") + "Z";
        }).join("");
        var shape = el("path", { d: d, fill: "#f4efe4", stroke: "#8c8c8c", "stroke-width": ".8" });
        shape.appendChild(el("title", {}, c.name));
        svg.appendChild(shape);
      });
      pts.forEach(function (p) {
        var q = xy(p.lon, p.lat), g = el("g");
        g.appendChild(el("circle", { cx: q[0], cy: q[1], r: 5, fill: "#c62828", stroke: "#fff", "stroke-width": 1.5 }));
        g.appendChild(el("text", { x: q[0] + 8, y: q[1] - 6, "font-weight": "600", "paint-order": "stroke", stroke: "#fff", "stroke-width": 3 }, p.label));
        g.appendChild(el("title", {}, p.label + " (" + p.lat.toFixed(4) + "° N, " + p.lon.toFixed(4) + "° E)"));
        svg.appendChild(linked(g, p.iri));
      });
      box.appendChild(svg);
      box.appendChild(html("p", { "class": "note" }, pts.length + " point" + (pts.length === 1 ? "" : "s") +
        ". Borders: Natural Earth (public domain), shipped with Köprü."));
    });
  };

  // --- Graph: the triples of a CONSTRUCT or DESCRIBE result ---------------------------
  function GraphView(yasr) { this.yasr = yasr; this.priority = 8; this.label = "Graph"; }
  GraphView.prototype.statements = function () {
    var r = this.yasr.results;
    try { return (r && r.getType && r.getType() === "ttl" && r.getStatements()) || null; } catch (e) { return null; }
  };
  GraphView.prototype.canHandleResults = function () {
    var s = this.statements();
    return !!(s && s.length);
  };
  GraphView.prototype.getIcon = function () { return html("span", { "class": "kv-icon" }, "⚭"); };
  GraphView.prototype.draw = function () {
    var prefixes = prefixesOf(this.yasr), all = this.statements(), LIMIT = 150;
    var quads = all.slice(0, LIMIT), nodes = {}, list = [], edges = [], labels = {};
    var LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
    all.forEach(function (q) {
      if (q.predicate.value === LABEL && q.object.termType === "Literal" && !labels[q.subject.value]) labels[q.subject.value] = q.object.value;
    });
    function node(term, key) {
      if (!nodes[key]) {
        var literal = term.termType === "Literal";
        nodes[key] = { key: key, iri: literal ? null : term.value, literal: literal,
                       text: literal ? term.value : (labels[term.value] || shortName(term.value, prefixes)), x: 0, y: 0, vx: 0, vy: 0 };
        list.push(nodes[key]);
      }
      return nodes[key];
    }
    quads.forEach(function (q, i) {
      if (q.predicate.value === LABEL) return;
      var s = node(q.subject, "n:" + q.subject.value);
      var o = node(q.object, q.object.termType === "Literal" ? "l:" + i : "n:" + q.object.value);
      edges.push({ s: s, o: o, label: shortName(q.predicate.value, prefixes) });
    });
    // A force-directed layout from a fixed start (the same drawing every time).
    var W = 900, H = Math.max(420, Math.min(900, 60 * Math.sqrt(list.length) + 240)), n = list.length;
    list.forEach(function (p, i) { var a = 2 * Math.PI * i / Math.max(1, n); p.x = W / 2 + (W / 3) * Math.cos(a); p.y = H / 2 + (H / 3) * Math.sin(a); });
    var k = Math.sqrt(W * H / Math.max(1, n)) * 0.6;
    for (var step = 0; step < 300; step++) {
      var t = 20 * (1 - step / 300) + 0.5;
      list.forEach(function (a) { a.vx = 0; a.vy = 0; });
      for (var i = 0; i < n; i++) for (var j = i + 1; j < n; j++) {
        var a = list[i], b = list[j], dx = a.x - b.x, dy = a.y - b.y, d = Math.sqrt(dx * dx + dy * dy) || 0.01, f = k * k / d;
        a.vx += dx / d * f; a.vy += dy / d * f; b.vx -= dx / d * f; b.vy -= dy / d * f;
      }
      edges.forEach(function (e) {
        var dx = e.s.x - e.o.x, dy = e.s.y - e.o.y, d = Math.sqrt(dx * dx + dy * dy) || 0.01, f = d * d / k;
        e.s.vx -= dx / d * f; e.s.vy -= dy / d * f; e.o.vx += dx / d * f; e.o.vy += dy / d * f;
      });
      list.forEach(function (p) {
        var v = Math.sqrt(p.vx * p.vx + p.vy * p.vy) || 1;
        p.x = Math.min(W - 60, Math.max(60, p.x + p.vx / v * Math.min(v, t)));
        p.y = Math.min(H - 20, Math.max(20, p.y + p.vy / v * Math.min(v, t)));
      });
    }
    var svg = svgRoot(W, H, "Graph of the result's triples");
    var defs = el("defs"), marker = el("marker", { id: "kv-arrow", viewBox: "0 0 10 10", refX: 18, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" });
    marker.appendChild(el("path", { d: "M0 0L10 5L0 10z", fill: "#5b6770" }));
    defs.appendChild(marker); svg.appendChild(defs);
    edges.forEach(function (e) {
      svg.appendChild(el("line", { x1: e.s.x, y1: e.s.y, x2: e.o.x, y2: e.o.y, stroke: "#9aa6b1", "marker-end": "url(#kv-arrow)" }));
      if (edges.length <= 60) {
        svg.appendChild(el("text", { x: (e.s.x + e.o.x) / 2, y: (e.s.y + e.o.y) / 2 - 3, "text-anchor": "middle", "font-size": 10, fill: "#5b6770" }, e.label));
      }
    });
    list.forEach(function (p) {
      var g = el("g"), text = p.text.length > 36 ? p.text.slice(0, 35) + "…" : p.text;
      if (p.literal) {
        g.appendChild(el("rect", { x: p.x - 4, y: p.y - 9, width: 8, height: 8, fill: "#b0bac3" }));
      } else {
        g.appendChild(el("circle", { cx: p.x, cy: p.y, r: 7, fill: p.iri && p.iri.indexOf(BASE) === 0 ? "#0b5cad" : "#5b6770", stroke: "#fff", "stroke-width": 1.5 }));
      }
      g.appendChild(el("text", { x: p.x + 10, y: p.y + 4, "paint-order": "stroke", stroke: "#fff", "stroke-width": 3, "font-style": p.literal ? "italic" : "normal" }, text));
      g.appendChild(el("title", {}, p.text));
      svg.appendChild(linked(g, p.iri));
    });
    var box = html("div", { "class": "kv-result kv-graph" });
    box.appendChild(svg);
    if (all.length > quads.length) box.appendChild(html("p", { "class": "note" }, "The first " + LIMIT + " of " + all.length + " triples."));
    this.yasr.resultsEl.appendChild(box);
  };

  Yasgui.Yasr.registerPlugin("chart", Chart);
  Yasgui.Yasr.registerPlugin("map", MapView);
  Yasgui.Yasr.registerPlugin("graph", GraphView);
})();
