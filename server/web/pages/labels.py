"""The reader's language and label fallback.

Preference order: `?lang=` (one tag or a comma list), then Accept-Language
by q-value, then English, then any label at all.
"""

from __future__ import annotations

import functools
import re
import urllib.parse

from flask import has_request_context, request
from markupsafe import Markup

LANG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
LANGUAGE_NAMES = {
    "en": "English", "tr": "Türkçe", "sq": "Shqip", "bs": "Bosanski", "sr": "Српски",
    "hr": "Hrvatski", "mk": "Македонски", "de": "Deutsch", "fr": "Français", "": "no language",
}


def preferred_languages() -> list[str]:
    """Lower-case primary tags in the reader's order of preference, ending with 'en'."""
    langs: list[str] = []
    param = request.args.get("lang", "")
    for tag in param.split(","):
        tag = tag.strip()
        if tag and LANG_RE.match(tag):
            langs.append(tag.lower())
    for tag, q in request.accept_languages:
        if q > 0 and tag != "*" and LANG_RE.match(tag):
            langs.append(tag.lower())
    langs.append("en")
    out: list[str] = []
    for tag in langs:
        for t in (tag, tag.split("-")[0]):
            if t not in out:
                out.append(t)
    return out


def pick(pairs, langs: list[str]) -> tuple[str, str] | None:
    """The best (value, lang) of `pairs` for the languages `langs`."""
    if not pairs:
        return None
    by_lang: dict[str, tuple[str, str]] = {}
    for value, lang in pairs:
        by_lang.setdefault(lang.lower(), (value, lang))
    for tag in langs:
        if tag in by_lang:
            return by_lang[tag]
        for lang, pair in by_lang.items():
            if lang.split("-")[0] == tag:
                return pair
    if "" in by_lang:
        return by_lang[""]
    return sorted(pairs)[0]


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag.lower(), tag)


# --- the pages' own words (UI strings) ---------------------------------------------
#
# The templates write every UI string in English through `_("…")`; this table
# gives the Turkish. The UI speaks the first of the reader's languages it has
# (English and Turkish: the languages the ontology's labels cover); any other
# language falls back to English. Placeholders ({n}, {name}…) are filled by
# `_()`; an argument that is Markup (a link built in the template) is kept
# as markup, anything else is escaped.

UI_LANGUAGES = ("en", "tr")
UI_LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe"}

UI_TR: dict[str, str] = {
    # base.html
    "Skip to content": "İçeriğe geç",
    "Site": "Site",
    "Browse": "Göz at",
    "Timeline": "Zaman çizelgesi",
    "Trade": "Ticaret",
    "Map": "Harita",
    "Ontology": "Ontoloji",
    "Source": "Kaynak",
    "Search labels": "Etiketlerde ara",
    "Search: Albania, Arnavutluk, Shqipëri…": "Ara: Arnavutluk, Albania, Shqipëri…",
    "Search": "Ara",
    "Language": "Dil",
    "Köprü — a linked-data knowledge graph of Türkiye's engagement in the Western Balkans.":
        "Köprü — Türkiye'nin Batı Balkanlar'daki etkinliğine dair bağlantılı veri bilgi grafiği.",
    "Dataset description (VoID)": "Veri kümesi tanımı (VoID)",
    "SPARQL endpoint": "SPARQL uç noktası",
    # entity.html
    "language": "dil",
    "no language": "dil belirtilmemiş",
    "(relative time; no date known)": "(göreli zaman; tarihi bilinmiyor)",
    "entailed by OWL RL, not asserted": "OWL RL ile çıkarsandı, doğrudan belirtilmedi",
    "entailed by OWL RL": "OWL RL ile çıkarsandı",
    "inferred": "çıkarsanan",
    "Claim": "İddia",
    "the view of {holders}": "görüş sahibi: {holders}",
    "Source:": "Kaynak:",
    "Types": "Türler",
    "Query this entity": "Bu varlığı sorgula",
    "Network view": "Ağ görünümü",
    "Attributed claim.": "Atfedilen iddia.",
    "This records what {holders} says or holds — a view, not an established fact.":
        "Bu kayıt kesinleşmiş bir olguyu değil, bir görüşü aktarır; söyleyen ya da savunan: {holders}.",
    "someone": "biri",
    "What the source says": "Kaynak ne diyor",
    "Inferred ({n} property)": "Çıkarsanan ({n} özellik)",
    "Inferred ({n} properties)": "Çıkarsanan ({n} özellik)",
    "Links to this entity": "Bu varlığa bağlantılar",
    "also, by inference": "ayrıca, çıkarımla",
    "also:": "ayrıca:",
    "Incoming links pages": "Gelen bağlantı sayfaları",
    "previous": "önceki",
    "next": "sonraki",
    "page {page} of {pages}": "sayfa {page} / {pages}",
    "Nothing in the graph points here.": "Grafikte buraya işaret eden bir şey yok.",
    "Names": "Adlar",
    "Shown in your language when there is a name in it, else English:":
        "Dilinizde bir ad varsa o gösterilir, yoksa İngilizcesi:",
    "Elsewhere": "Başka kaynaklarda",
    "close": "yakın",
    "Coordinates": "Koordinatlar",
    "Schematic locator (grid and country centres, no borders).":
        "Şematik konum haritası (ızgara ve ülke merkezleri; sınır yok).",
    "On the map of places and projects": "Yerler ve projeler haritasında",
    # statement groups (entity.GROUPS)
    "Claims and positions": "İddialar ve tutumlar",
    "Agreements": "Anlaşmalar",
    "Projects": "Projeler",
    "Trade and investment": "Ticaret ve yatırım",
    "Security and defence": "Güvenlik ve savunma",
    "Aid and assistance": "Yardım ve destek",
    "Relations, events and initiatives": "İlişkiler, olaylar ve girişimler",
    "Actors": "Aktörler",
    "Places": "Yerler",
    "Time": "Zaman",
    "Money": "Para",
    "Sources": "Kaynaklar",
    "Classification": "Sınıflandırma",
    "Details": "Ayrıntılar",
    "Other links": "Diğer bağlantılar",
    # property names with no label in the ontology (render.term_label)
    "Comment": "Açıklama",
    "Label": "Etiket",
    "Type": "Tür",
    "See also": "Ayrıca bakınız",
    "Is defined by": "Tanımlandığı yer",
    "Same as": "Aynısı",
    # home.html
    "Home": "Ana sayfa",
    "Köprü (“bridge”) is a linked-data knowledge graph of Türkiye's engagement in the Western Balkans: the states, agencies and companies involved, the agreements they sign, the projects they fund and build, trade and aid flows, security cooperation, and the claims people make about it all.":
        "Köprü, Türkiye'nin Batı Balkanlar'daki etkinliğine dair bağlantılı veri (linked data) bilgi grafiğidir: ilgili devletler, kurumlar ve şirketler, imzaladıkları anlaşmalar, finanse edip inşa ettikleri projeler, ticaret ve yardım akışları, güvenlik işbirliği ve bütün bunlar hakkında ileri sürülen iddialar.",
    "Every fact is drawn from one analysis article and cites {sentence}; an OWL 2 RL reasoner adds what follows from {ontology}, kept apart from what was said.":
        "Her olgu tek bir analiz makalesinden alınır ve {sentence} gösterir; bir OWL 2 RL çıkarım motoru {ontology} çıkan sonuçları ekler, söylenenlerden ayrı tutarak.",
    "the sentence it comes from": "dayandığı cümleyi",
    "the ontology": "ontolojiden",
    "Find an entity by name, in any language": "Bir varlığı herhangi bir dildeki adıyla bulun",
    "Albania, Arnavutluk, Shqipëri, TİKA…": "Arnavutluk, Albania, Shqipëri, TİKA…",
    "Start here": "Buradan başlayın",
    "Countries": "Ülkeler",
    "Aid": "Yardım",
    "Claims": "İddialar",
    "Views": "Görünümler",
    "agreements and events by year": "yıllara göre anlaşmalar ve olaylar",
    "Trade chart": "Ticaret grafiği",
    "the trade flows and their values": "ticaret akışları ve değerleri",
    "places and projects (schematic)": "yerler ve projeler (şematik)",
    "Network": "Ağ",
    "Türkiye's neighbourhood in the graph": "Türkiye'nin grafikteki komşuluğu",
    "Key figures": "Temel rakamlar",
    "Asserted triples": "Belirtilen üçlüler",
    "Entailed triples (OWL RL)": "Çıkarsanan üçlüler (OWL RL)",
    "Ontology triples": "Ontoloji üçlüleri",
    "Entities per class (asserted and inferred members)": "Sınıf başına varlık sayısı (belirtilen ve çıkarsanan üyeler)",
    "Class": "Sınıf",
    "Entities": "Varlıklar",
    "For machines": "Makineler için",
    "Every entity IRI dereferences:": "Her varlık IRI'si çözümlenebilir:",
    "SPARQL 1.1 endpoint": "SPARQL 1.1 uç noktası",
    "VoID / DCAT description": "VoID / DCAT tanımı",
    "with the dumps:": "ve veri dökümleri:",
    # browse.html
    "Instances of {cls}, asserted or inferred.": "{cls} sınıfının örnekleri (belirtilen ya da çıkarsanan).",
    "Pages": "Sayfalar",
    "Browse by class": "Sınıfa göre göz at",
    # search.html
    "{n} result for “{q}”": "“{q}” için {n} sonuç",
    "{n} results for “{q}”": "“{q}” için {n} sonuç",
    "(any language, ignoring case and accents).": "(her dilde; büyük/küçük harf ve aksan gözetmeksizin).",
    "matched": "eşleşen",
    "Type a name in any language: English, Turkish, Albanian, Bosnian, Serbian…":
        "Herhangi bir dilde bir ad yazın: Türkçe, İngilizce, Arnavutça, Boşnakça, Sırpça…",
    "Scripts: ask for {accept}.": "Betikler için: {accept} isteyin.",
    # source.html
    "The article's sentences are not reproduced here; each is listed with its paragraph and the facts the graph draws from it, in Köprü's own words.":
        "Makalenin cümleleri burada aktarılmaz; her biri paragrafıyla ve grafiğin ondan çıkardığı olgularla, Köprü'nün kendi sözleriyle listelenir.",
    "paragraph {n}": "paragraf {n}",
    # error.html
    "Not found": "Bulunamadı",
    # ontology.html (and ontology_docs.py's property kinds)
    "namespace": "ad alanı",
    "Contents": "İçindekiler",
    "Class hierarchy": "Sınıf hiyerarşisi",
    "Properties": "Özellikler",
    "Classes": "Sınıflar",
    "link to {name}": "{name} bağlantısı",
    "Labels": "Etiketler",
    "Subclass of": "Üst sınıfları",
    "Subclasses": "Alt sınıfları",
    "Properties with this domain": "Bu tanım kümesine sahip özellikler",
    "Instances": "Örnekler",
    "SHACL constraints": "SHACL kısıtları",
    "Read from the object's side:": "Nesne tarafından okunuşu:",
    "Domain": "Tanım kümesi",
    "Range": "Değer kümesi",
    "Subproperty of": "Üst özellikleri",
    "Subproperties": "Alt özellikleri",
    "Inverse": "Tersi",
    "object property": "nesne özelliği",
    "datatype property": "veri türü özelliği",
    "annotation property": "açıklama özelliği",
    "property": "özellik",
    "transitive": "geçişli",
    "symmetric": "simetrik",
    "functional": "işlevsel",
    "inverse-functional": "ters işlevsel",
    # views: timeline.html, trade.html, map.html, network.html
    "The drawing alone (SVG)": "Yalnızca çizim (SVG)",
    "Agreements and events by year, {first} → {last}: every fact the graph gives a time for ({props}), placed by the year of that time.":
        "Yıllara göre anlaşmalar ve olaylar, {first} → {last}: grafiğin zamanını verdiği her olgu ({props}), o zamanın yılına yerleştirilmiştir.",
    "Some times are known only relative to the source article, which is undated (“last year”): those facts are shown in a separate lane, not on a guessed year.":
        "Bazı zamanlar yalnızca tarihsiz kaynak makaleye göre bilinir (“geçen yıl”): bu olgular tahmini bir yıla değil, ayrı bir şeride yerleştirilmiştir.",
    "Each dot and each line links to the fact's page.": "Her nokta ve her çizgi olgunun sayfasına bağlanır.",
    "Dated facts": "Tarihli olgular",
    "Year": "Yıl",
    "Fact": "Olgu",
    "Kind": "Tür",
    "Time given by": "Zamanı veren özellik",
    "No fact in the graph has a time with a known year.": "Grafikte yılı bilinen bir zamana sahip olgu yok.",
    "The time:": "Zaman:",
    "Undated: {time}": "Tarihsiz: {time}",
    "No calendar year is known for this time: it lies before the article's publication, whose date is unknown, so these facts are not on the axis.":
        "Bu zamanın takvim yılı bilinmiyor: tarihi bilinmeyen makalenin yayımlanmasından öncedir, bu yüzden bu olgular eksende yer almaz.",
    "agreement": "anlaşma",
    "event": "olay",
    "trade": "ticaret",
    "project": "proje",
    "place": "yer",
    "actor": "aktör",
    "other": "diğer",
    "Only vaguely dated": "Yalnızca belirsiz tarihli",
    "These facts have no time node, only words for when ({prop}); they are not drawn.":
        "Bu olguların zaman düğümü yok, yalnızca ne zaman olduklarını anlatan sözcükler var ({prop}); çizilmezler.",
    "The trade flows the graph gives a value for, largest first, one scale per currency. Values are as the source states them; totals are not drawn.":
        "Grafiğin değer verdiği ticaret akışları, en büyüğü önce, her para birimi için ayrı ölçekle. Değerler kaynağın belirttiği gibidir; toplamlar çizilmez.",
    "Each bar links to the trade flow's page.": "Her çubuk ticaret akışının sayfasına bağlanır.",
    "Values in {currency}": "{currency} cinsinden değerler",
    "Trade flow": "Ticaret akışı",
    "From → to": "Nereden → nereye",
    "Period": "Dönem",
    "Value": "Değer",
    "Trade flows without a stated value": "Değeri belirtilmemiş ticaret akışları",
    "Map of places and projects": "Yerler ve projeler haritası",
    "The map is schematic.": "Harita şematiktir.",
    "It draws no borders or coastlines: a latitude/longitude grid (equirectangular, {west}–{east}° E, {south}–{north}° N), the countries as points at rough centres, and the places at the coordinates the graph gives.":
        "Sınır ya da kıyı çizgisi çizmez: bir enlem/boylam ızgarası (eşdikdörtgen, {west}–{east}° D, {south}–{north}° K), kaba merkezlerinde nokta olarak ülkeler ve grafiğin verdiği koordinatlarda yerler.",
    "Projects are numbered markers at the place or country they are located in.":
        "Projeler, bulundukları yerde ya da ülkede numaralı işaretlerdir.",
    "the frame's data": "çerçevenin verisi",
    "Places with coordinates": "Koordinatlı yerler",
    "outside the map's frame": "harita çerçevesinin dışında",
    "Projects on the map": "Haritadaki projeler",
    "No project is located in a place of this map.": "Bu haritadaki bir yerde bulunan proje yok.",
    "Located only in a region as a whole": "Yalnızca bir bölgenin bütününde bulunanlar",
    "Not drawn: a region has no point or outline here.": "Çizilmedi: bir bölgenin burada noktası ya da sınırı yok.",
    "Network of {name}": "{name} ağı",
    "Network:": "Ağ:",
    "Everything one link away from this entity, in either direction —": "Bu varlıktan, iki yönde de, tek bağlantı uzaklıktaki her şey —",
    "asserted and inferred links (inferred ones drawn fainter).": "belirtilen ve çıkarsanan bağlantılar (çıkarsananlar daha soluk çizilir).",
    "Asserted links only": "Yalnızca belirtilen bağlantılar",
    "asserted links only.": "yalnızca belirtilen bağlantılar.",
    "Add the links the OWL RL closure infers": "OWL RL kapanışının çıkarsadığı bağlantıları ekle",
    "Types, source sentences and links to other datasets are left out: they are on the {page}.":
        "Türler, kaynak cümleler ve diğer veri kümelerine bağlantılar dışarıda bırakıldı: bunlar {page} yer alır.",
    "entity page": "varlık sayfasında",
    "Labels link to each node's page; dots open that node's own network.":
        "Etiketler her düğümün sayfasına bağlanır; noktalar o düğümün kendi ağını açar.",
    "Neighbours": "Komşular",
    "its network": "ağı",
}

UI_STRINGS = {"en": {}, "tr": UI_TR}


def ui_language(langs: list[str]) -> str:
    """The language the pages' own words are in: the first of the reader's
    languages the UI has (en, tr); English otherwise."""
    for tag in langs:
        if tag in UI_STRINGS:
            return tag
    return "en"


def ui_text(text: str, lang: str = "en", **args):
    """`text` (an English UI string) in `lang`, placeholders filled. Returns
    Markup: the string itself and every non-Markup argument are escaped."""
    s = UI_STRINGS.get(lang, {}).get(text, text)
    return Markup.escape(s).format(**args) if args else Markup.escape(s)


def number(n: int, lang: str = "en") -> str:
    """1629 → '1,629' ('1.629' in Turkish)."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "tr" else text


def translate(text: str, langs: list[str]) -> str:
    """Plain-text `text` in the UI language of `langs` (for view models)."""
    return UI_STRINGS.get(ui_language(langs), {}).get(text, text)


# Per-endpoint query arguments the language switch keeps (each one is part
# of that page's cache key, so a cached page never carries a stranger's
# arguments).
_SWITCH_KEEPS = {"pages.entity_resource": ("in",), "pages.search": ("q",),
                 "pages.browse": ("page",), "pages.network_page": ("inferred",)}


def ui_context() -> dict:
    """What every page template gets: `_` (the UI's wording), the UI language,
    the language switch, `num` (numbers in the reader's language)."""
    if not has_request_context():
        return {"_": ui_text, "ui_lang": "en", "ui_switch": [], "num": number}
    lang = ui_language(preferred_languages())
    keep = _SWITCH_KEEPS.get(request.endpoint or "", ())
    args = [(k, request.args[k]) for k in keep if k in request.args]
    switch = [(code, UI_LANGUAGE_NAMES[code],
               request.path + "?" + urllib.parse.urlencode(args + [("lang", code)]))
              for code in UI_LANGUAGES]
    return {"_": functools.partial(ui_text, lang=lang), "ui_lang": lang, "ui_switch": switch,
            "num": functools.partial(number, lang=lang)}
