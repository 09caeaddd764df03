#!/usr/bin/env python3
"""Synthetic Köprü projects for the scale bench: valid data in Köprü's own
ontology, at a target number of triples.

    python bench/generate.py OUT_DIR --triples 100000 [--seed 1] [--file-triples 50000]

Writes a project directory: `ontology/` copied from this repository (the
ontology, external declarations and shapes, unchanged) and `graph/*.ttl`,
split by kind and into files of at most --file-triples triples, so that
`kopru validate --project OUT_DIR` and `kopru build --project OUT_DIR` work
on it. The same seed and target always give byte-identical files.

What is in it (proportions fixed, counts scaled to the target):

- regions (a small tree: world → continents → sub-regions), states (each
  `kop:State` and `kop:Country`, `kop:within` a sub-region, one Wikidata
  link), cities (`kop:within` a state, a WKT point geometry);
- government agencies and state-owned enterprises (`kop:controlledBy` a
  state, some through a parent agency: a chain for the transitive
  closure), companies (`kop:basedIn` a city);
- source documents and their sentences (S00–S99 per document, as the
  shapes allow), years as `time:Instant`s with `xsd:gYear`;
- facts, every one with `kop:statedIn` one or two source sentences and an
  English `kop:summary`: agreements (≥2 parties, `kop:signedOn` a year),
  projects (funded/built by actors, `kop:locatedIn` a city, `kop:partOf`
  chains up to a programme), trade flows (exporter, importer, a
  `schema:MonetaryAmount` in USD with an `xsd:decimal` value, a period,
  goods), humanitarian aid deliveries in response to floods (aid items
  from the ontology's code list), and claims of the three kinds.

Everything is valid under ontology/shapes.ttl (tests check the 10k set).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PREFIXES = """\
@prefix kop:     <https://w3id.org/kopru/ontology#> .
@prefix id:      <https://w3id.org/kopru/id/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix geo:     <http://www.opengis.net/ont/geosparql#> .
@prefix time:    <http://www.w3.org/2006/time#> .
@prefix schema:  <http://schema.org/> .
@prefix syn:     <https://w3id.org/kopru/id/synthetic/> .
@prefix doc:     <https://w3id.org/kopru/source/synthetic/> .
"""

# Code-list values (ontology/kopru.ttl §15).
AID_ITEMS = ["id:blankets", "id:food-parcels", "id:water-drainage-pumps", "id:generators",
             "id:beds", "id:air-conditioners", "id:refrigerators", "id:drinking-water"]
GOODS = ["id:textiles", "id:machinery", "id:electronics", "id:raw-materials"]
SECTORS = ["id:sector-diplomacy", "id:sector-economy", "id:sector-trade",
           "id:sector-investment", "id:sector-infrastructure", "id:sector-transport",
           "id:sector-energy", "id:sector-defence", "id:sector-defence-industry",
           "id:sector-humanitarian-aid", "id:sector-development-cooperation",
           "id:sector-religion-and-heritage", "id:sector-culture"]
STATUSES = ["id:status-in-progress", "id:status-completed", "id:status-agreed",
            "id:status-unspecified"]
AGREEMENT_CLASSES = ["kop:StrategicPartnershipAgreement", "kop:DefenceCooperationPact",
                     "kop:MilitaryTrainingAgreement", "kop:DefenceIndustryAgreement",
                     "kop:IndustrialContract", "kop:Agreement"]
# project class → (asset kind, sector)
PROJECT_CLASSES = [
    ("kop:HighwayProject", "id:asset-highway", "id:sector-transport"),
    ("kop:RoadProject", "id:asset-road", "id:sector-transport"),
    ("kop:RailwayProject", "id:asset-railway", "id:sector-transport"),
    ("kop:AirportProject", "id:asset-airport", "id:sector-transport"),
    ("kop:EnergyInfrastructureProject", "id:asset-energy-infrastructure", "id:sector-energy"),
    ("kop:ReligiousHeritageRestoration", "id:asset-mosque", "id:sector-religion-and-heritage"),
    ("kop:AmmunitionFactoryProject", "id:asset-ammunition-factory",
     "id:sector-defence-industry"),
]
CLAIM_CLASSES = ["kop:AttributedOpinion", "kop:StatedPosition", "kop:Assessment"]

SYLLABLES = ["ka", "ro", "mi", "ta", "ve", "lo", "sa", "ni", "de", "bu", "ra", "zo", "pe",
             "li", "an", "or", "el", "is", "ur", "ma", "ko", "vi", "na", "te"]
ADJECTIVES = ["major", "regional", "joint", "new", "long-term", "bilateral", "large",
              "modest", "strategic", "local"]


def name(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


@dataclass
class Writer:
    """Turtle subject blocks, counted, into files of at most `limit` triples."""
    out: Path
    limit: int
    files: dict = field(default_factory=dict)   # kind -> [current index, triples, chunks]
    total: int = 0

    def block(self, kind: str, subject: str, props: list[tuple[str, list[str]]]) -> int:
        n = sum(len(objs) for _, objs in props)
        lines = [subject]
        for i, (p, objs) in enumerate(props):
            sep = " ;" if i < len(props) - 1 else " ."
            lines.append(f"    {p} {' , '.join(objs)}{sep}")
        text = "\n".join(lines) + "\n\n"
        state = self.files.setdefault(kind, [1, 0, []])
        if state[1] + n > self.limit and state[1] > 0:
            self._flush(kind)
            state[0] += 1
            state[1] = 0
        state[2].append(text)
        state[1] += n
        self.total += n
        return n

    def _flush(self, kind: str) -> None:
        idx, _n, chunks = self.files[kind]
        path = self.out / f"{kind}-{idx:03d}.ttl"
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"# Synthetic Köprü data ({kind}, part {idx}), bench/generate.py.\n\n")
            f.write(PREFIXES + "\n")
            f.writelines(chunks)
        chunks.clear()

    def close(self) -> None:
        for kind in list(self.files):
            if self.files[kind][2]:
                self._flush(kind)


def lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


class Generator:
    def __init__(self, out: Path, target: int, seed: int, file_triples: int) -> None:
        self.rng = random.Random(seed)
        self.target = target
        self.w = Writer(out / "graph", file_triples)
        self.sentences: list[str] = []
        self.doc_count = 0
        self.sentence_count = 0

    # --- background ---------------------------------------------------------

    def sentence(self) -> str:
        """A new source sentence (documents hold S00–S99, as the shapes say)."""
        if self.sentence_count % 100 == 0:
            self.doc_count += 1
            d = f"doc:d{self.doc_count:05d}"
            self.current_doc = d
            self.w.block("sources", d, [
                ("a", ["kop:SourceDocument"]),
                ("rdfs:label", [lit(f"Synthetic source document {self.doc_count}")]),
            ])
        k = self.sentence_count % 100
        s = f"<https://w3id.org/kopru/source/synthetic/d{self.doc_count:05d}#S{k:02d}>"
        self.sentence_count += 1
        self.w.block("sources", s, [
            ("a", ["kop:SourceSentence"]),
            ("rdfs:label", [lit(f"Sentence S{k:02d} of document {self.doc_count}")]),
            ("kop:sentenceId", [f'"S{k:02d}"']),
            ("kop:paragraph", [str(k // 5 + 1)]),
            ("dcterms:isPartOf", [self.current_doc]),
        ])
        self.sentences.append(s)
        return s

    def cite(self) -> list[str]:
        """One or two sentences: mostly recent ones, a new one now and then."""
        rng = self.rng
        if not self.sentences or rng.random() < 0.35:
            first = self.sentence()
        else:
            first = self.sentences[-1 - rng.randrange(min(50, len(self.sentences)))]
        if rng.random() < 0.2:
            second = self.sentences[rng.randrange(len(self.sentences))]
            if second != first:
                return [first, second]
        return [first]

    def background(self) -> None:
        rng, w, t = self.rng, self.w, self.target
        # regions: world → 5 continents → 4 sub-regions each
        w.block("places", "syn:world", [("a", ["kop:Region"]),
                                        ("rdfs:label", [lit("World (synthetic)")])])
        self.regions = []
        for c in range(5):
            cont = f"syn:continent-{c}"
            w.block("places", cont, [("a", ["kop:Region"]),
                                     ("rdfs:label", [lit(f"Continent {name(rng)}")]),
                                     ("kop:within", ["syn:world"])])
            for r in range(4):
                reg = f"syn:region-{c}-{r}"
                w.block("places", reg, [("a", ["kop:Region"]),
                                        ("rdfs:label", [lit(f"Region {name(rng)}")]),
                                        ("kop:within", [cont])])
                self.regions.append(reg)
        # years
        self.years = []
        for y in range(1990, 2025):
            yr = f"syn:year-{y}"
            w.block("time", yr, [("a", ["time:Instant"]), ("rdfs:label", [lit(str(y))]),
                                 ("time:inXSDgYear", [f'"{y}"^^xsd:gYear'])])
            self.years.append(yr)
        # states
        n_states = max(8, min(400, t // 2500))
        self.states = []
        for i in range(n_states):
            s = f"syn:state-{i}"
            w.block("actors", s, [
                ("a", ["kop:State", "kop:Country"]),
                ("rdfs:label", [lit(f"State of {name(rng)}"), f'"Devlet {i}"@tr']),
                ("kop:within", [rng.choice(self.regions)]),
                ("skos:exactMatch", [f"<http://www.wikidata.org/entity/Q{900000 + i}>"]),
            ])
            self.states.append(s)
        # cities, with a point geometry
        self.cities = []
        for i in range(max(20, t // 300)):
            c = f"syn:city-{i}"
            g = f"syn:city-{i}-point"
            w.block("places", c, [
                ("a", ["kop:City"]),
                ("rdfs:label", [lit(f"{name(rng)} City")]),
                ("kop:within", [rng.choice(self.states)]),
                ("geo:hasGeometry", [g]),
            ])
            lon, lat = rng.uniform(-180, 180), rng.uniform(-80, 80)
            w.block("places", g, [
                ("a", ["geo:Geometry"]),
                ("rdfs:label", [lit(f"City {i} (point)")]),
                ("geo:asWKT", [f'"POINT({lon:.4f} {lat:.4f})"^^geo:wktLiteral']),
            ])
            self.cities.append(c)
        # agencies (some controlled through a parent agency), SOEs, companies
        self.agencies = []
        for i in range(max(6, t // 600)):
            a = f"syn:agency-{i}"
            parent = (rng.choice(self.agencies) if self.agencies and rng.random() < 0.3
                      else rng.choice(self.states))
            w.block("actors", a, [
                ("a", ["kop:GovernmentAgency"]),
                ("rdfs:label", [lit(f"{name(rng)} Development Agency")]),
                ("kop:controlledBy", [parent]),
                ("kop:sector", [rng.choice(SECTORS)]),
            ])
            self.agencies.append(a)
        self.soes = []
        for i in range(max(4, t // 1000)):
            a = f"syn:soe-{i}"
            w.block("actors", a, [
                ("a", ["kop:StateOwnedEnterprise"]),
                ("rdfs:label", [lit(f"{name(rng)} Industries (state-owned)")]),
                ("kop:controlledBy", [rng.choice(self.states + self.agencies)]),
                ("kop:sector", [rng.choice(SECTORS)]),
            ])
            self.soes.append(a)
        self.companies = []
        for i in range(max(4, t // 1000)):
            a = f"syn:company-{i}"
            w.block("actors", a, [
                ("a", ["kop:Company"]),
                ("rdfs:label", [lit(f"{name(rng)} Construction Ltd")]),
                ("kop:basedIn", [rng.choice(self.cities)]),
            ])
            self.companies.append(a)
        self.observers = []
        for i in range(max(3, t // 5000)):
            a = f"syn:observers-{i}"
            w.block("actors", a, [("a", ["kop:AnonymousGroup"]),
                                  ("rdfs:label", [lit(f"Observers (unnamed group {i})")])])
            self.observers.append(a)
        self.floods = []
        self.programmes: list[str] = []
        self.projects: list[str] = []

    # --- facts ----------------------------------------------------------------

    def fact(self, kind: str, subject: str, cls: list[str], label: str, summary: str,
             props: list[tuple[str, list[str]]]) -> None:
        self.w.block(kind, subject, [("a", cls), ("rdfs:label", [lit(label)])] + props
                     + [("kop:summary", [lit(summary)]), ("kop:statedIn", self.cite())])

    def actors(self) -> list[str]:
        return self.states + self.agencies

    def agreement(self, i: int) -> None:
        rng = self.rng
        parties = rng.sample(self.states + self.soes + self.agencies, rng.choice((2, 2, 2, 3)))
        self.fact("agreements", f"syn:agreement-{i}", [rng.choice(AGREEMENT_CLASSES)],
                  f"Agreement {i} between {len(parties)} parties",
                  f"The parties signed a {rng.choice(ADJECTIVES)} agreement (number {i}).",
                  [("kop:party", parties), ("kop:signedOn", [rng.choice(self.years)]),
                   ("kop:sector", [rng.choice(SECTORS)])])

    def project(self, i: int) -> None:
        rng = self.rng
        cls, asset, sector = rng.choice(PROJECT_CLASSES)
        s = f"syn:project-{i}"
        props: list[tuple[str, list[str]]] = []
        r = rng.random()
        if self.programmes and r < 0.6:
            props.append(("kop:partOf", [rng.choice(self.programmes[-200:])]))
        if r > 0.3:
            props.append(("kop:fundedBy", [rng.choice(self.actors())]))
        if rng.random() < 0.6:
            props.append(("kop:builtBy", [rng.choice(self.soes + self.companies)]))
        props += [("kop:locatedIn", [rng.choice(self.cities)]),
                  ("kop:assetKind", [asset]), ("kop:sector", [sector]),
                  ("kop:status", [rng.choice(STATUSES)])]
        if rng.random() < 0.3:
            props.append(("kop:quantity", [str(rng.randrange(1, 40))]))
        self.fact("projects", s, [cls], f"Project {i}: {rng.choice(ADJECTIVES)} {asset[9:]}",
                  f"A {asset[9:]} project (number {i}) is under way in the city named.",
                  props)
        self.projects.append(s)
        # every 8th project becomes a programme others are part of (partOf chains)
        if i % 8 == 0:
            self.programmes.append(s)

    def trade(self, i: int) -> None:
        rng = self.rng
        exporter, importer = rng.sample(self.states, 2)
        s = f"syn:trade-{i}"
        amount = f"syn:trade-{i}-value"
        value = f"{rng.randrange(1, 5_000_000) * 1000}.{rng.randrange(10)}"
        self.fact("trade", s, ["kop:TradeFlow"], f"Trade flow {i}",
                  f"Exports worth USD {value} went from one state to another (flow {i}).",
                  [("kop:exporter", [exporter]), ("kop:importer", [importer]),
                   ("kop:tradeValue", [amount]), ("kop:period", [rng.choice(self.years)]),
                   ("kop:goods", rng.sample(GOODS, rng.choice((1, 1, 2)))),
                   ("kop:sector", ["id:sector-trade"])])
        self.w.block("trade", amount, [
            ("a", ["schema:MonetaryAmount"]),
            ("rdfs:label", [lit(f"USD {value}")]),
            ("schema:value", [value]),
            ("schema:currency", ['"USD"']),
        ])

    def aid(self, i: int) -> None:
        rng = self.rng
        if not self.floods or rng.random() < 0.1:
            f = f"syn:flood-{len(self.floods)}"
            where = rng.choice(self.cities)
            self.fact("aid", f, ["kop:Flood"], f"Flood {len(self.floods)}",
                      f"A flood struck the area (synthetic flood {len(self.floods)}).",
                      [("kop:locatedIn", [where]), ("kop:hasTime", [rng.choice(self.years)])])
            self.floods.append((f, where))
        flood, where = rng.choice(self.floods[-20:])
        self.fact("aid", f"syn:aid-{i}", ["kop:HumanitarianAidDelivery"], f"Aid delivery {i}",
                  f"Relief items were delivered after the flood (delivery {i}).",
                  [("kop:provider", [rng.choice(self.actors())]),
                   ("kop:recipient", [rng.choice(self.states)]),
                   ("kop:inResponseTo", [flood]), ("kop:locatedIn", [where]),
                   ("kop:assistanceKind", ["id:humanitarian-assistance"]),
                   ("kop:sector", ["id:sector-humanitarian-aid"]),
                   ("kop:aidItem", rng.sample(AID_ITEMS, rng.randrange(1, 5)))])

    def claim(self, i: int) -> None:
        rng = self.rng
        cls = rng.choice(CLAIM_CLASSES)
        holder = (rng.choice(self.observers) if cls == "kop:AttributedOpinion"
                  else rng.choice(self.states))
        about = rng.sample(self.states + self.projects[-100:], 2)
        self.fact("claims", f"syn:claim-{i}", [cls], f"Claim {i}",
                  f"Someone holds a view about the parties named (claim {i}).",
                  [("prov:wasAttributedTo", [holder]), ("kop:about", about)])

    def run(self) -> int:
        self.background()
        kinds = [(self.project, 30), (self.agreement, 20), (self.trade, 20),
                 (self.aid, 15), (self.claim, 15)]
        makers = [m for m, weight in kinds for _ in range(weight)]
        counters: dict = {}
        while self.w.total < self.target:
            make = self.rng.choice(makers)
            n = counters.get(make.__name__, 0)
            counters[make.__name__] = n + 1
            make(n)
        self.w.close()
        return self.w.total


def generate(out: Path, triples: int, seed: int = 1, file_triples: int = 50_000) -> int:
    """Write a synthetic project to `out` (replacing its graph/ and
    ontology/); return the number of graph triples written."""
    out = Path(out)
    for sub in ("graph", "ontology"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    (out / "graph").mkdir(parents=True)
    shutil.copytree(REPO / "ontology", out / "ontology")
    return Generator(out, triples, seed, file_triples).run()


def beside_shipped(out: Path, synthetic: Path) -> Path:
    """A project at `out`: the shipped ontology and graph files with the
    graph files of the synthetic project `synthetic` beside them (as
    graph/synthetic-*.ttl; the synthetic entities are all under
    id/synthetic/, and both use the shipped ontology). Returns `out`."""
    out = Path(out)
    shutil.copytree(REPO / "ontology", out / "ontology")
    shutil.copytree(REPO / "graph", out / "graph")
    for f in (Path(synthetic) / "graph").glob("*.ttl"):
        shutil.copy(f, out / "graph" / f"synthetic-{f.name}")
    return out


# --- broken variants ---------------------------------------------------------------------
#
# One edit each, of the kind a contributor makes by mistake, applied to a
# generated project: the differential tests validate every variant with
# pyshacl and with the fast validator (and incrementally) and compare.
# (name, files, pattern, replacement): the replacement is applied to one
# match, chosen by the random generator, in one of the files.

MUTATIONS = [
    ("label-not-english", "actors-*.ttl", r'(rdfs:label "[^"]*")@en', r"\1@tr"),
    ("label-removed", "projects-*.ttl", r"\n    rdfs:label [^\n]*;", ""),
    ("second-english-label", "places-*.ttl", r'(rdfs:label "[^"]*"@en)', r'\1 , "Another"@en'),
    ("statedIn-not-a-sentence", "agreements-*.ttl", r"kop:statedIn <[^>]*>",
     "kop:statedIn syn:state-0"),
    ("one-party", "agreements-*.ttl", r"kop:party (syn:[\w-]+) , [^;]*;", r"kop:party \1 ;"),
    ("year-not-gyear", "time-*.ttl", r'"(\d{4})"\^\^xsd:gYear', r"\1"),
    ("currency-lower-case", "trade-*.ttl", r'schema:currency "USD"', 'schema:currency "usd"'),
    ("sector-from-wrong-list", "projects-*.ttl", r"kop:sector id:[\w-]+", "kop:sector id:textiles"),
    ("undeclared-property", "aid-*.ttl", r"kop:provider ", "kop:providedBy "),
    ("undeclared-class", "claims-*.ttl", r"a kop:Assessment", "a kop:Asessment"),
    ("wkt-malformed", "places-*.ttl", r'"POINT\(([-\d.]+) ([-\d.]+)\)"', r'"POINT(\1, \2)"'),
    ("controller-not-actor", "actors-*.ttl", r"kop:controlledBy syn:[\w-]+",
     "kop:controlledBy syn:city-1"),
    ("state-not-country", "actors-*.ttl", r"a kop:State , kop:Country", "a kop:State"),
    ("quantity-vague", "projects-*.ttl", r"kop:quantity \d+", 'kop:quantity "dozens"@en'),
    ("paragraph-zero", "sources-*.ttl", r"kop:paragraph \d+", "kop:paragraph 0"),
    ("city-not-within", "places-*.ttl", r"(a kop:City ;\n[^\n]*\n)    kop:within [^;]*;\n",
     r"\1"),
    ("city-becomes-community", "places-*.ttl", r"a kop:City", "a kop:Community"),
    ("sentence-becomes-document", "sources-*.ttl", r"a kop:SourceSentence", "a kop:SourceDocument"),
    ("two-exporters", "trade-*.ttl", r"kop:exporter (syn:[\w-]+) ;",
     r"kop:exporter \1 , syn:soe-0 ;"),
    ("summary-too-short", "claims-*.ttl", r'kop:summary "[^"]*"@en', 'kop:summary "Short"@en'),
    ("amount-blank-node-bad-currency", "trade-*.ttl", r"kop:tradeValue syn:[\w-]+ ;",
     'kop:tradeValue [ a schema:MonetaryAmount ; rdfs:label "USD 5"@en ; schema:value 5.0 ; '
     'schema:currency "dollars" ] ;'),
    ("aid-without-recipient", "aid-*.ttl", r"\n    kop:recipient [^;]*;", ""),
]


def mutate(project: Path, name: str, seed: int = 0) -> str:
    """Apply the named mutation to one match in one graph file of `project`;
    return "file: what changed". Raises LookupError if nothing matches."""
    import re

    _name, pattern_glob, pattern, replacement = next(m for m in MUTATIONS if m[0] == name)
    rng = random.Random(f"{name}/{seed}")
    rx = re.compile(pattern)
    candidates = []
    for path in sorted((Path(project) / "graph").glob(pattern_glob)):
        text = path.read_text(encoding="utf-8")
        candidates += [(path, m) for m in rx.finditer(text)]
    if not candidates:
        raise LookupError(f"mutation {name}: nothing matches {pattern!r} in {pattern_glob}")
    path, m = rng.choice(candidates)
    text = path.read_text(encoding="utf-8")
    new = text[:m.start()] + m.expand(replacement) + text[m.end():]
    path.write_text(new, encoding="utf-8")
    return f"{path.name}: {m.group(0)[:60]!r} -> {m.expand(replacement)[:60]!r}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="project directory to write")
    ap.add_argument("--triples", type=int, default=10_000, help="target graph triples")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--file-triples", type=int, default=50_000,
                    help="at most this many triples per graph file (default 50000)")
    args = ap.parse_args()
    n = generate(args.out, args.triples, args.seed, args.file_triples)
    files = len(list((args.out / "graph").glob("*.ttl")))
    print(f"{args.out}: {n} triples in {files} graph files (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
