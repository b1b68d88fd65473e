"""A local stand-in for a Meilisearch server (no Meilisearch binary can run here): a Starlette
app under uvicorn on a loopback port that answers the part of Meilisearch's HTTP API the search
backend uses, in the real API's JSON shapes, and records every request it was sent.

What it replays, from Meilisearch's documentation (and, where the docs are silent, its source):
- bearer-key auth: 401 `missing_authorization_header`, 403 `invalid_api_key`;
  errors as `{message, code, type, link}`;
- indexes, settings (partial PATCH merged into the defaults), documents (replaced whole by
  POST, ids `[A-Za-z0-9_-]`, `_vectors` checked against the embedders' dimensions), deletion
  by batch; every write is a task `enqueued -> processing -> succeeded | failed`. A task is
  worked on as it is polled: it stays unfinished for `polls_before_done` polls of
  `GET /tasks/{uid}`, then it (and every older unfinished task, in order) is applied. A write
  nobody waits for is therefore never visible, and `fail_next_task()` makes the next one fail;
- search: words are runs of letters and digits, lowercased and accent-folded; typos by
  length (`minWordSizeForTypos`, 5 and 9 by default), counted with transpositions, a typo on
  the first letter costing two, none on `disableOnAttributes`; the last word is also a prefix
  (unless the query ends with a separator); `matchingStrategy` `last` (documents matching every
  word first, then dropping words from the end), `all`, `frequency`; the ranking rules words,
  typo, proximity, attribute, sort, exactness with `_rankingScoreDetails` and `_rankingScore`
  composed as Meilisearch composes them; filters (`=`, `!=`, `>`, `>=`, `<`, `<=`, `TO`, `IN`,
  `NOT IN`, `EXISTS`, `IS NULL`, `IS EMPTY`, `AND`, `OR`, `NOT`, parentheses, quoted values with
  backslash escapes; only on filterable attributes); `facetDistribution` and `facetStats`;
  `_formatted` with the highlight tags (a prefix match marks only the typed part, as Meilisearch
  does since 1.2); `page`/`hitsPerPage` with exact `totalHits`, or `offset`/`limit` with
  `estimatedTotalHits`, both capped by `maxTotalHits`; hybrid search over `_vectors` (cosine,
  similarity `(1 + cos) / 2`), merged by `semanticRatio`-weighted scores with `semanticHitCount`,
  semantic only at ratio 1.0, keyword only at 0.0, and the keyword results kept alone when they
  are "good enough" (every score of a full window * (1 - ratio) >= 0.45).
Not replayed: synonyms, stop words, phrase search and `-negation`, split and concatenated
words, cropping, distinct, geo, multi-search, API key management."""

from __future__ import annotations

import fnmatch
import functools
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rapidfuzz.distance import OSA
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.secrets import remember_secret
from tests.support.servers import ServerThread

MASTER_KEY = "replay-master-key-4b1d"
ERRORS_LINK = "https://docs.meilisearch.com/errors#"
RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
MAX_QUERY_WORDS = 10
"""Meilisearch reads the first ten words of a query."""
GOOD_ENOUGH_KEYWORD_SCORE = 0.45
_INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def default_settings() -> dict[str, Any]:
    return {
        "displayedAttributes": ["*"],
        "searchableAttributes": ["*"],
        "filterableAttributes": [],
        "sortableAttributes": [],
        "rankingRules": list(RANKING_RULES),
        "stopWords": [],
        "nonSeparatorTokens": [],
        "separatorTokens": [],
        "dictionary": [],
        "synonyms": {},
        "distinctAttribute": None,
        "proximityPrecision": "byWord",
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
            "disableOnWords": [],
            "disableOnAttributes": [],
            "disableOnNumbers": False,
        },
        "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
        "pagination": {"maxTotalHits": 1000},
        "embedders": {},
        "searchCutoffMs": None,
        "localizedAttributes": None,
        "facetSearch": True,
        "prefixSearch": "indexingTime",
    }


_MERGED_SETTINGS = ("typoTolerance", "faceting", "pagination")
_SEARCH_PARAMETERS = frozenset(
    {
        "q", "offset", "limit", "page", "hitsPerPage", "filter", "facets", "attributesToRetrieve",
        "attributesToCrop", "cropLength", "cropMarker", "attributesToHighlight", "highlightPreTag",
        "highlightPostTag", "showMatchesPosition", "sort", "matchingStrategy", "attributesToSearchOn",
        "showRankingScore", "showRankingScoreDetails", "rankingScoreThreshold", "vector", "hybrid",
        "retrieveVectors", "distinct", "locales", "showPerformanceDetails", "media", "personalize",
    }
)  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class MeilisearchApiError(Exception):
    """An error answered as Meilisearch answers it (also the `error` of a failed task)."""

    def __init__(self, status: int, code: str, message: str, type: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.type = status, code, message, type

    def body(self) -> dict[str, str]:
        return {
            "message": self.message,
            "code": self.code,
            "type": self.type,
            "link": ERRORS_LINK + self.code,
        }


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Task:
    uid: int
    index_uid: str | None
    type: str
    details: dict[str, Any]
    work: Callable[[], dict[str, Any]]
    """Applies the task and returns its final details (raises MeilisearchApiError to fail)."""
    status: str = "enqueued"
    error: dict[str, str] | None = None
    enqueued_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    polls: int = 0
    statuses_seen: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "taskUid": self.uid,
            "indexUid": self.index_uid,
            "status": self.status,
            "type": self.type,
            "enqueuedAt": self.enqueued_at,
        }

    def view(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "batchUid": self.uid if self.started_at else None,
            "indexUid": self.index_uid,
            "status": self.status,
            "type": self.type,
            "canceledBy": None,
            "details": self.details,
            "error": self.error,
            "duration": "PT0.001S" if self.finished_at else None,
            "enqueuedAt": self.enqueued_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")


@dataclass
class StoredDocument:
    internal_id: int
    fields: dict[str, Any]
    vectors: dict[str, list[float] | None]


@dataclass
class Index:
    uid: str
    primary_key: str | None
    settings: dict[str, Any] = field(default_factory=default_settings)
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    next_internal_id: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "primaryKey": self.primary_key,
        }

    def filterable(self, attribute: str) -> bool:
        for entry in self.settings["filterableAttributes"]:
            patterns = entry.get("attributePatterns", []) if isinstance(entry, dict) else [entry]
            if any(fnmatch.fnmatchcase(attribute, pattern) for pattern in patterns):
                return True
        return False

    def searchable_attributes(self, document: dict[str, Any]) -> list[str]:
        searchable = self.settings["searchableAttributes"]
        return list(document) if searchable == ["*"] else list(searchable)


# Text: words, typos, highlights.


def normalized(text: str) -> str:
    """Lowercased, accents removed (Meilisearch's tokenizer normalises Latin text so)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def facet_normalized(value: str) -> str:
    """Facet values and filter strings compare trimmed and lowercased."""
    return value.strip().lower()


def words_in(text: str) -> Iterator[re.Match[str]]:
    return _WORD.finditer(text)


@dataclass(frozen=True)
class QueryTerm:
    text: str
    typo_budget: int
    prefix: bool


def query_terms(query: str, settings: dict[str, Any]) -> list[QueryTerm]:
    words = [normalized(found.group()) for found in words_in(query)][:MAX_QUERY_WORDS]
    typo = settings["typoTolerance"]
    sizes = typo["minWordSizeForTypos"]
    ends_open = bool(query) and bool(_WORD.fullmatch(query[-1]))
    terms = []
    for index, word in enumerate(words):
        budget = 0
        if typo["enabled"] and word not in typo["disableOnWords"]:
            if not (typo["disableOnNumbers"] and word.isdigit()):
                budget = 2 if len(word) >= sizes["twoTypos"] else 1 if len(word) >= sizes["oneTypo"] else 0
        terms.append(QueryTerm(word, budget, prefix=index == len(words) - 1 and ends_open))
    return terms


def typos_between(term: QueryTerm, token: str, typos_allowed: bool) -> tuple[int, str] | None:
    """(typos, how) if `token` matches `term`: "exact", "prefix" or "typo"."""
    if token == term.text:
        return 0, "exact"
    if term.prefix and token.startswith(term.text):
        return 0, "prefix"
    budget = term.typo_budget if typos_allowed else 0
    if budget == 0 or not token:
        return None
    if term.prefix:
        shortest = max(len(term.text) - budget, 1)
        longest = min(len(term.text) + budget, len(token))
        distance = min(
            (OSA.distance(term.text, token[:length]) for length in range(shortest, longest + 1)),
            default=budget + 1,
        )
    else:
        distance = OSA.distance(term.text, token)
    if token[0] == term.text[0]:
        return (distance, "typo") if distance <= budget else None
    # A typo on the first letter counts as two.
    return (2, "typo") if budget >= 2 and distance <= 1 else None


def highlighted(text: str, terms: list[QueryTerm], pre: str, post: str) -> str:
    out: list[str] = []
    position = 0
    for found in words_in(text):
        token = normalized(found.group())
        marked_length = 0
        for term in terms:
            matched = typos_between(term, token, typos_allowed=True)
            if matched is None:
                continue
            if matched[1] == "prefix" and len(found.group()) == len(token):
                marked_length = max(marked_length, len(term.text))
            else:
                marked_length = len(found.group())
        if marked_length:
            end = found.start() + marked_length
            out.extend([text[position : found.start()], pre, text[found.start() : end], post])
            position = end
    out.append(text[position:])
    return "".join(out)


def flattened(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in flattened(element)]
    return [] if value is None or isinstance(value, dict) else [value]


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Ranks and scores, as Meilisearch composes them.


@dataclass(frozen=True)
class Rank:
    rank: int
    max_rank: int

    @property
    def score(self) -> float:
        return self.rank / self.max_rank

    def merged(self, inner: Rank) -> Rank:
        return Rank(max(self.rank - 1, 0) * inner.max_rank + inner.rank, self.max_rank * inner.max_rank)


def global_score(ranks: list[Rank]) -> float:
    total = Rank(1, 1)
    for rank in ranks:
        total = total.merged(rank)
    return total.score


def below(cost: int, max_cost: int) -> Rank:
    return Rank(max(max_cost - cost, 0) + 1, max_cost + 1)


@dataclass
class Ranked:
    """One candidate of a search: the ranks it got from each rule, and their details."""

    document: StoredDocument
    ranks: list[Rank | tuple[str, Any]]
    """A rank per ranking rule, or ("sort", value) for a sort rule."""
    details: dict[str, Any]
    source: str = "keyword"

    @property
    def score(self) -> float:
        """`_rankingScore`: the similarity of a semantic hit, else the rules' composed ranks."""
        if self.source == "semantic":
            return float(self.details["vectorSort"]["similarity"] or 0.0)
        return global_score([rank for rank in self.ranks if isinstance(rank, Rank)])


# Filters.


class FilterSyntaxError(Exception):
    pass


_FILTER_TOKEN = re.compile(
    r"\s*(?:(?P<op>!=|>=|<=|=|>|<)|(?P<punct>[()\[\],])|(?P<quote>[\"'])|(?P<word>[^\s()\[\],=<>!\"']+))"
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "TO", "EXISTS", "IS", "NULL", "EMPTY"})
_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "0": "\0",
    "/": "/",
    "b": "\b",
    "f": "\f",
}


def _unescaped(raw: str, quote: str) -> str:
    """Meilisearch's two passes: an escaped quote becomes the quote, then backslash escapes."""
    text = raw.replace("\\" + quote, quote) if "\\" + quote in raw else raw
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        following = text[index + 1 : index + 2]
        if following in _ESCAPES:
            out.append(_ESCAPES[following])
            index += 2
        elif following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
            out.append(chr(int(text[index + 2 : index + 6], 16)))
            index += 6
        else:
            raise FilterSyntaxError(f"Malformed value `{raw}`.")
    return "".join(out)


@dataclass(frozen=True)
class FilterToken:
    kind: str  # "op", "punct", "value", "keyword"
    text: str
    quoted: bool = False


def filter_tokens(expression: str) -> list[FilterToken]:
    tokens: list[FilterToken] = []
    position = 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        found = _FILTER_TOKEN.match(expression, position)
        if not found:
            raise FilterSyntaxError(f"Unexpected character at `{expression[position:]}`.")
        if found.group("op"):
            tokens.append(FilterToken("op", found.group("op")))
            position = found.end()
        elif found.group("punct"):
            tokens.append(FilterToken("punct", found.group("punct")))
            position = found.end()
        elif found.group("quote"):
            quote = found.group("quote")
            index = found.end()
            while index < len(expression) and expression[index] != quote:
                index += 2 if expression[index] == "\\" else 1
            if index >= len(expression):
                raise FilterSyntaxError(
                    f"Expression `{expression[found.start() :]}` is missing the closing `{quote}`."
                )
            tokens.append(
                FilterToken("value", _unescaped(expression[found.end() : index], quote), quoted=True)
            )
            position = index + 1
        else:
            word = found.group("word")
            tokens.append(FilterToken("keyword" if word in _KEYWORDS else "value", word))
            position = found.end()
    return tokens


Predicate = Callable[[dict[str, Any]], bool]


class FilterParser:
    """expression = or; or = and (OR and)*; and = not (AND not)*; not = NOT not | primary;
    primary = ( expression ) | condition."""

    def __init__(self, expression: str, index: Index) -> None:
        self.tokens = filter_tokens(expression)
        self.position = 0
        self.index = index

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda document: True
        predicate = self._or()
        if self.position != len(self.tokens):
            raise FilterSyntaxError(
                "Found unexpected characters at the end of the filter: "
                f"`{' '.join(token.text for token in self.tokens[self.position :])}`."
            )
        return predicate

    def _peek(self, offset: int = 0) -> FilterToken | None:
        at = self.position + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def _next(self) -> FilterToken:
        token = self._peek()
        if token is None:
            raise FilterSyntaxError("Was expecting a value but instead got nothing.")
        self.position += 1
        return token

    def _accept(self, kind: str, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == kind and token.text == text:
            self.position += 1
            return True
        return False

    def _expect(self, kind: str, text: str) -> None:
        if not self._accept(kind, text):
            found = self._peek()
            raise FilterSyntaxError(f"Was expecting `{text}` but found `{found.text if found else ''}`.")

    def _value(self) -> str:
        token = self._next()
        if token.kind != "value":
            raise FilterSyntaxError(f"Was expecting a value but instead got `{token.text}`.")
        return token.text

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._accept("keyword", "OR"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda document: any(part(document) for part in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._accept("keyword", "AND"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda document: all(part(document) for part in parts))

    def _not(self) -> Predicate:
        if self._accept("keyword", "NOT"):
            inner = self._not()
            return lambda document: not inner(document)
        if self._accept("punct", "("):
            inner = self._or()
            self._expect("punct", ")")
            return inner
        return self._condition()

    def _condition(self) -> Predicate:
        attribute = self._value()
        if not self.index.filterable(attribute):
            raise MeilisearchApiError(
                400,
                "invalid_search_filter",
                f"Index `{self.index.uid}`: Attribute `{attribute}` is not filterable. Available filterable "
                f"attribute patterns are: `{', '.join(map(str, self.index.settings['filterableAttributes']))}`.",
            )
        token = self._peek()
        if token is None:
            raise FilterSyntaxError(f"Was expecting an operation after `{attribute}`.")
        if token.kind == "op":
            self.position += 1
            return _compare(attribute, token.text, self._value())
        if self._accept("keyword", "IN"):
            values = self._list()
            return lambda document: any(
                _equal(field, value) for field in _values(document, attribute) for value in values
            )
        if token.kind == "keyword" and token.text == "NOT":
            self.position += 1
            if self._accept("keyword", "IN"):
                values = self._list()
                return lambda document: (
                    not any(
                        _equal(field, value) for field in _values(document, attribute) for value in values
                    )
                )
            self._expect("keyword", "EXISTS")
            return lambda document: attribute not in document
        if self._accept("keyword", "EXISTS"):
            return lambda document: attribute in document
        if self._accept("keyword", "IS"):
            negated = self._accept("keyword", "NOT")
            if self._accept("keyword", "NULL"):
                return lambda document: (document.get(attribute, ...) is None) != negated
            self._expect("keyword", "EMPTY")
            return lambda document: (document.get(attribute, ...) in ("", [], {})) != negated
        low = self._value()
        self._expect("keyword", "TO")
        high = self._value()
        lower, upper = _compare(attribute, ">=", low), _compare(attribute, "<=", high)
        return lambda document: lower(document) and upper(document)

    def _list(self) -> list[str]:
        self._expect("punct", "[")
        values: list[str] = []
        while not self._accept("punct", "]"):
            values.append(self._value())
            if not self._accept("punct", ","):
                self._expect("punct", "]")
                break
        return values


def _values(document: dict[str, Any], attribute: str) -> list[Any]:
    return flattened(document.get(attribute))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(field: Any, value: str) -> bool:
    number = _number(value)
    if number is not None and not isinstance(field, bool) and _number(field) == number:
        return True
    return facet_normalized(as_text(field)) == facet_normalized(value)


def _compare(attribute: str, operator: str, value: str) -> Predicate:
    if operator == "=":
        return lambda document: any(_equal(field, value) for field in _values(document, attribute))
    if operator == "!=":
        return lambda document: not any(_equal(field, value) for field in _values(document, attribute))
    bound = _number(value)
    checks: dict[str, Callable[[float, float], bool]] = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    check = checks[operator]

    def compared(document: dict[str, Any]) -> bool:
        if bound is None:
            return False
        for field_value in _values(document, attribute):
            number = None if isinstance(field_value, bool) else _number(field_value)
            if number is not None and check(number, bound):
                return True
        return False

    return compared


def _any_of(alternatives: list[Predicate]) -> Predicate:
    return lambda document: any(alternative(document) for alternative in alternatives)


def filter_predicate(filter: Any, index: Index) -> Predicate:
    """A string, or an array of strings (AND) whose nested arrays are ORs."""
    if filter is None:
        return lambda document: True
    try:
        if isinstance(filter, str):
            return FilterParser(filter, index).parse()
        if isinstance(filter, list):
            parts: list[Predicate] = []
            for element in filter:
                if isinstance(element, list):
                    alternatives = [FilterParser(str(item), index).parse() for item in element]
                    parts.append(_any_of(alternatives))
                else:
                    parts.append(FilterParser(str(element), index).parse())
            return lambda document: all(part(document) for part in parts)
    except FilterSyntaxError as error:
        raise MeilisearchApiError(400, "invalid_search_filter", str(error)) from error
    raise MeilisearchApiError(
        400, "invalid_search_filter", "Invalid syntax for the filter parameter: `expected String, Array`."
    )


# Search.


class Searcher:
    def __init__(self, index: Index, body: dict[str, Any]) -> None:
        self.index = index
        self.body = body
        self.settings = index.settings
        self.embedder = ""

    def option(self, name: str, default: Any) -> Any:
        value = self.body.get(name)
        return default if value is None else value

    def run(self) -> dict[str, Any]:
        unknown = sorted(set(self.body) - _SEARCH_PARAMETERS)
        if unknown:
            raise MeilisearchApiError(
                400,
                "bad_request",
                f"Unknown field `{unknown[0]}`: expected one of {sorted(_SEARCH_PARAMETERS)}",
            )
        query = str(self.option("q", ""))
        predicate = filter_predicate(self.body.get("filter"), self.index)
        universe = [
            document
            for document in sorted(self.index.documents.values(), key=lambda stored: stored.internal_id)
            if predicate(document.fields)
        ]
        sort = self._sort_criteria()
        facets = self._facets()
        hybrid = self.body.get("hybrid")
        vector = self.body.get("vector")
        if vector is not None and hybrid is None:
            raise MeilisearchApiError(
                400, "missing_search_hybrid", "Passing `vector` as a parameter requires `hybrid.embedder`."
            )
        window_start, window_length, finite = self._window()
        ratio = 0.0
        if hybrid is not None:
            ratio = self._semantic_ratio(hybrid)
            self._check_embedder(hybrid, vector)
        placeholder = not query.strip() and vector is None
        if placeholder or hybrid is None or ratio == 0.0:
            ranked, candidates = self._keyword(query, universe, sort)
        elif ratio == 1.0:
            if vector is None:
                raise self._cannot_embed()
            ranked = self._semantic(vector, universe)
            candidates = len(universe)
        elif vector is None:
            # The hybrid search cannot embed the query: it answers with the keyword results.
            ranked, candidates = self._keyword(query, universe, sort)
        else:
            ranked, candidates = self._hybrid(
                query, vector, universe, sort, ratio, window_start + window_length
            )
        threshold = self.body.get("rankingScoreThreshold")
        if threshold is not None:
            kept = [hit for hit in ranked if hit.score >= float(threshold)]
            candidates -= len(ranked) - len(kept)
            ranked = kept
        max_total_hits = int(self.settings["pagination"]["maxTotalHits"])
        window_start = min(window_start, max_total_hits)
        window_length = min(window_length, max_total_hits - window_start)
        page = ranked[window_start : window_start + window_length]
        number_of_hits = min(candidates, max_total_hits)
        terms = query_terms(query, self.settings) if not placeholder else []
        response: dict[str, Any] = {"hits": [self._hit(hit, terms) for hit in page], "query": query}
        response["processingTimeMs"] = 0
        if finite:
            per_page = int(self.option("hitsPerPage", 20))
            response.update(
                hitsPerPage=per_page,
                page=int(self.option("page", 1)),
                totalPages=math.ceil(number_of_hits / per_page) if per_page else 0,
                totalHits=number_of_hits,
            )
        else:
            response.update(
                limit=int(self.option("limit", 20)),
                offset=int(self.option("offset", 0)),
                estimatedTotalHits=number_of_hits,
            )
        if facets is not None:
            every = [hit.document for hit in ranked]
            response["facetDistribution"] = self._facet_distribution(facets, every)
            response["facetStats"] = self._facet_stats(facets, every)
        if hybrid is not None:
            response["semanticHitCount"] = sum(1 for hit in page if hit.source == "semantic")
        return response

    # Parameters.

    def _window(self) -> tuple[int, int, bool]:
        if self.body.get("page") is not None or self.body.get("hitsPerPage") is not None:
            per_page = int(self.option("hitsPerPage", 20))
            page = int(self.option("page", 1))
            return ((page - 1) * per_page, per_page, True) if page >= 1 else (0, 0, True)
        return int(self.option("offset", 0)), int(self.option("limit", 20)), False

    def _sort_criteria(self) -> list[tuple[str, bool]]:
        criteria: list[tuple[str, bool]] = []
        for entry in self.option("sort", []):
            attribute, _, direction = str(entry).rpartition(":")
            if direction not in ("asc", "desc") or not attribute:
                raise MeilisearchApiError(
                    400, "invalid_search_sort", f"Invalid syntax for the sort parameter: `{entry}`."
                )
            if attribute not in self.settings["sortableAttributes"]:
                raise MeilisearchApiError(
                    400,
                    "invalid_search_sort",
                    f"Attribute `{attribute}` is not sortable. Available sortable attributes are: "
                    f"`{', '.join(self.settings['sortableAttributes'])}`.",
                )
            criteria.append((attribute, direction == "asc"))
        return criteria

    def _facets(self) -> list[str] | None:
        facets = self.body.get("facets")
        if facets is None:
            return None
        for facet in facets:
            if facet != "*" and not self.index.filterable(facet):
                raise MeilisearchApiError(
                    400,
                    "invalid_search_facets",
                    f"Invalid facet distribution: Attribute `{facet}` is not filterable. The available "
                    f"filterable attribute patterns are `{', '.join(map(str, self.settings['filterableAttributes']))}`.",
                )
        return list(facets)

    def _semantic_ratio(self, hybrid: dict[str, Any]) -> float:
        ratio = hybrid.get("semanticRatio", 0.5)
        if not isinstance(ratio, int | float) or not 0.0 <= ratio <= 1.0:
            raise MeilisearchApiError(
                400,
                "invalid_search_semantic_ratio",
                "Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is invalid, expected a "
                "float between `0.0` and `1.0`.",
            )
        return float(ratio)

    def _check_embedder(self, hybrid: dict[str, Any], vector: Any) -> None:
        name = hybrid.get("embedder")
        embedder = self.settings["embedders"].get(name)
        if embedder is None:
            raise MeilisearchApiError(
                400, "invalid_search_embedder", f"Cannot find embedder with name `{name}`."
            )
        self.embedder = str(name)
        if vector is not None and len(vector) != embedder.get("dimensions"):
            raise MeilisearchApiError(
                400,
                "invalid_vector_dimensions",
                f"Invalid vector dimensions: expected: `{embedder.get('dimensions')}`, found: `{len(vector)}`.",
            )

    def _cannot_embed(self) -> MeilisearchApiError:
        """A `userProvided` embedder cannot embed a query: the caller must send `vector`."""
        return MeilisearchApiError(
            400,
            "vector_embedding_error",
            f"Error while generating embeddings: user error: embedder `{self.embedder}` expects "
            "vectors provided by the user.",
        )

    # Keyword ranking.

    def _searched_on(self, document: dict[str, Any]) -> list[str]:
        attributes = self.index.searchable_attributes(document)
        chosen = self.body.get("attributesToSearchOn")
        if chosen is not None:
            missing = [
                name
                for name in chosen
                if name not in attributes and self.settings["searchableAttributes"] != ["*"]
            ]
            if missing:
                raise MeilisearchApiError(
                    400,
                    "invalid_search_attributes_to_search_on",
                    f"Attribute `{missing[0]}` is not searchable. Available searchable attributes are: "
                    f"`{', '.join(attributes)}`.",
                )
            attributes = [name for name in attributes if name in chosen]
        return attributes

    def _keyword(
        self, query: str, universe: list[StoredDocument], sort: list[tuple[str, bool]]
    ) -> tuple[list[Ranked], int]:
        terms = query_terms(query, self.settings)
        if not terms:
            ranked = [self._placeholder(document, sort) for document in universe]
        else:
            strategy = self.option("matchingStrategy", "last")
            if strategy not in ("last", "all", "frequency"):
                raise MeilisearchApiError(
                    400,
                    "invalid_search_matching_strategy",
                    f"Unknown value `{strategy}` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`.",
                )
            drop_order = self._drop_order(strategy, terms, universe)
            ranked = [
                hit
                for document in universe
                if (hit := self._rank(document, terms, drop_order, sort)) is not None
            ]
        ranked.sort(key=functools.cmp_to_key(self._compare))
        return ranked, len(ranked)

    def _drop_order(self, strategy: str, terms: list[QueryTerm], universe: list[StoredDocument]) -> list[int]:
        if strategy == "all":
            return []
        if strategy == "last":
            return list(range(len(terms) - 1, 0, -1))
        frequency = [
            sum(1 for document in universe if self._term_matches(document, term)[0] is not None)
            for term in terms
        ]
        order = sorted(range(len(terms)), key=lambda index: (-frequency[index], -index))
        return order[: len(terms) - 1]

    def _term_matches(
        self, document: StoredDocument, term: QueryTerm
    ) -> tuple[tuple[int, int, int] | None, dict[int, list[int]], bool]:
        """(best (typos, attribute, position), positions by attribute, matched exactly)."""
        exact_attributes = set(self.settings["typoTolerance"]["disableOnAttributes"])
        best: tuple[int, int, int] | None = None
        positions: dict[int, list[int]] = {}
        exactly = False
        for attribute_rank, attribute in enumerate(self._searched_on(document.fields)):
            for position, token in enumerate(self._tokens(document.fields.get(attribute))):
                matched = typos_between(term, token, typos_allowed=attribute not in exact_attributes)
                if matched is None:
                    continue
                positions.setdefault(attribute_rank, []).append(position)
                exactly = exactly or matched[1] == "exact"
                candidate = (matched[0], attribute_rank, position)
                if best is None or candidate < best:
                    best = candidate
        return best, positions, exactly

    @staticmethod
    def _tokens(value: Any) -> list[str]:
        tokens: list[str] = []
        for element in flattened(value):
            if tokens:
                tokens.extend([""] * 7)  # array elements are this far apart for proximity
            tokens.extend(normalized(found.group()) for found in words_in(as_text(element)))
        return tokens

    def _rank(
        self,
        document: StoredDocument,
        terms: list[QueryTerm],
        drop_order: list[int],
        sort: list[tuple[str, bool]],
    ) -> Ranked | None:
        matches = [self._term_matches(document, term) for term in terms]
        kept = list(range(len(terms)))
        dropped = iter(drop_order)
        while any(matches[index][0] is None for index in kept):
            removed = next(dropped, None)
            if removed is None:
                return None
            kept.remove(removed)
        bests = [matches[index][0] for index in kept]
        best = [entry for entry in bests if entry is not None]
        ranks: list[Rank | tuple[str, Any]] = []
        details: dict[str, Any] = {}
        for rule in self.settings["rankingRules"]:
            order = len(details)
            if rule == "words":
                rank = Rank(len(kept), len(terms))
                details["words"] = {
                    "order": order, "matchingWords": len(kept), "maxMatchingWords": len(terms), "score": rank.score
                }  # fmt: skip
                ranks.append(rank)
            elif rule == "typo":
                typo_count = sum(entry[0] for entry in best)
                max_typos = sum(terms[index].typo_budget for index in kept)
                rank = below(typo_count, max_typos)
                details["typo"] = {
                    "order": order, "typoCount": typo_count, "maxTypoCount": max_typos, "score": rank.score
                }  # fmt: skip
                ranks.append(rank)
            elif rule == "proximity":
                rank = self._proximity([matches[index][1] for index in kept])
                details["proximity"] = {"order": order, "score": rank.score}
                ranks.append(rank)
            elif rule == "attribute":
                attributes = len(self._searched_on(document.fields))
                fid = below(sum(entry[1] for entry in best), max(attributes - 1, 0) * len(best))
                position = below(sum(min(entry[2], 10) for entry in best), 10 * len(best))
                ranks.append(fid.merged(position))
                details["attribute"] = {
                    "order": order,
                    "attributeRankingOrderScore": fid.score,
                    "queryWordDistanceScore": position.score,
                    "score": global_score([fid, position]),
                }
            elif rule == "exactness":
                rank, detail = self._exactness(document, [terms[index] for index in kept], matches, kept)
                details["exactness"] = {"order": order, **detail}
                ranks.append(rank)
            elif rule == "sort":
                for attribute, ascending in sort:
                    value = document.fields.get(attribute)
                    details[f"{attribute}:{'asc' if ascending else 'desc'}"] = {
                        "order": len(details),
                        "value": value,
                    }
                    ranks.append(("sort", (attribute, ascending, value)))
            elif ":" in rule:
                attribute, _, direction = rule.rpartition(":")
                value = document.fields.get(attribute)
                details[rule] = {"order": order, "value": value}
                ranks.append(("sort", (attribute, direction == "asc", value)))
        return Ranked(document, ranks, details)

    @staticmethod
    def _proximity(positions: list[dict[int, list[int]]]) -> Rank:
        pairs = len(positions) - 1
        if pairs <= 0:
            return Rank(1, 1)
        cost = 0
        for left, right in itertools.pairwise(positions):
            closest = 8
            for attribute in set(left) & set(right):
                for first in left[attribute]:
                    for second in right[attribute]:
                        distance = second - first if second > first else first - second + 1
                        closest = min(closest, distance)
            cost += closest - 1
        return below(cost, 7 * pairs)

    def _exactness(
        self,
        document: StoredDocument,
        kept_terms: list[QueryTerm],
        matches: list[tuple[tuple[int, int, int] | None, dict[int, list[int]], bool]],
        kept: list[int],
    ) -> tuple[Rank, dict[str, Any]]:
        wanted = [term.text for term in kept_terms]
        match_type = "noExactMatch"
        for attribute in self._searched_on(document.fields):
            for element in flattened(document.fields.get(attribute)):
                tokens = [normalized(found.group()) for found in words_in(as_text(element))]
                if tokens == wanted:
                    match_type = "exactMatch"
                elif tokens[: len(wanted)] == wanted and match_type == "noExactMatch":
                    match_type = "matchesStart"
        attribute_rank = Rank({"exactMatch": 3, "matchesStart": 2, "noExactMatch": 1}[match_type], 3)
        exact_words = sum(1 for index in kept if matches[index][2])
        words_rank = Rank(exact_words + 1, len(kept) + 1)
        detail: dict[str, Any] = {"matchType": match_type}
        if match_type == "noExactMatch":
            detail.update(matchingWords=exact_words, maxMatchingWords=len(kept))
        detail["score"] = global_score([attribute_rank, words_rank])
        return attribute_rank.merged(words_rank), detail

    def _placeholder(self, document: StoredDocument, sort: list[tuple[str, bool]]) -> Ranked:
        ranks: list[Rank | tuple[str, Any]] = []
        details: dict[str, Any] = {}
        for attribute, ascending in sort:
            value = document.fields.get(attribute)
            details[f"{attribute}:{'asc' if ascending else 'desc'}"] = {"order": len(details), "value": value}
            ranks.append(("sort", (attribute, ascending, value)))
        return Ranked(document, ranks, details)

    @staticmethod
    def _compare(left: Ranked, right: Ranked) -> int:
        for mine, theirs in zip(left.ranks, right.ranks, strict=False):
            if isinstance(mine, Rank) and isinstance(theirs, Rank):
                if mine.score != theirs.score:
                    return -1 if mine.score > theirs.score else 1
            elif isinstance(mine, tuple) and isinstance(theirs, tuple):
                order = _sort_order(mine[1], theirs[1])
                if order:
                    return order
        return left.document.internal_id - right.document.internal_id

    # Semantic and hybrid.

    def _semantic(self, vector: list[float], universe: list[StoredDocument]) -> list[Ranked]:
        with_vectors: list[tuple[float, StoredDocument]] = []
        without: list[StoredDocument] = []
        for document in universe:
            embedding = document.vectors.get(self.embedder)
            if embedding is None:
                without.append(document)
            else:
                with_vectors.append((_similarity(vector, embedding), document))
        with_vectors.sort(key=lambda pair: (-pair[0], pair[1].internal_id))
        ranked = [
            Ranked(document, [], {"vectorSort": {"order": 0, "similarity": similarity}}, source="semantic")
            for similarity, document in with_vectors
        ]
        ranked.extend(
            Ranked(document, [], {"vectorSort": {"order": 0, "similarity": None}}, source="semantic")
            for document in without
        )
        return ranked

    def _hybrid(
        self,
        query: str,
        vector: list[float],
        universe: list[StoredDocument],
        sort: list[tuple[str, bool]],
        ratio: float,
        window_end: int,
    ) -> tuple[list[Ranked], int]:
        keyword, _ = self._keyword(query, universe, sort)
        head = keyword[:window_end]
        if len(head) >= window_end and all(
            hit.score * (1 - ratio) >= GOOD_ENOUGH_KEYWORD_SCORE for hit in head
        ):
            return keyword, len(keyword)
        semantic = self._semantic(vector, universe)
        merged: list[Ranked] = []
        seen: set[int] = set()
        semantic_at, keyword_at = 0, 0
        while semantic_at < len(semantic) or keyword_at < len(keyword):
            take_semantic = keyword_at >= len(keyword) or (
                semantic_at < len(semantic)
                and semantic[semantic_at].score * ratio >= keyword[keyword_at].score * (1 - ratio)
            )
            if take_semantic:
                hit = semantic[semantic_at]
                semantic_at += 1
            else:
                hit = keyword[keyword_at]
                keyword_at += 1
            if hit.document.internal_id not in seen:
                seen.add(hit.document.internal_id)
                merged.append(hit)
        return merged, len(universe)

    # Rendering.

    def _hit(self, ranked: Ranked, terms: list[QueryTerm]) -> dict[str, Any]:
        fields = ranked.document.fields
        displayed = self.settings["displayedAttributes"]
        visible = {name: value for name, value in fields.items() if displayed == ["*"] or name in displayed}
        retrieve = self.option("attributesToRetrieve", ["*"])
        hit = {name: value for name, value in visible.items() if retrieve == ["*"] or name in retrieve}
        to_highlight = self.option("attributesToHighlight", [])
        if to_highlight or self.option("attributesToCrop", []):
            pre, post = self.option("highlightPreTag", "<em>"), self.option("highlightPostTag", "</em>")
            marked = set(visible) if "*" in to_highlight else set(to_highlight)
            formatted: dict[str, Any] = {}
            for name, value in visible.items():
                if name not in hit and name not in marked:
                    continue
                formatted[name] = self._formatted(value, terms, pre, post) if name in marked else value
            hit["_formatted"] = formatted
        if self.body.get("retrieveVectors"):
            hit["_vectors"] = {
                name: {"embeddings": [embedding] if embedding is not None else [], "regenerate": False}
                for name, embedding in ranked.document.vectors.items()
            }
        if self.body.get("showRankingScore"):
            hit["_rankingScore"] = ranked.score
        if self.body.get("showRankingScoreDetails"):
            hit["_rankingScoreDetails"] = ranked.details
        return hit

    def _formatted(self, value: Any, terms: list[QueryTerm], pre: str, post: str) -> Any:
        if isinstance(value, list):
            return [self._formatted(element, terms, pre, post) for element in value]
        if isinstance(value, dict) or value is None:
            return value
        return highlighted(as_text(value), terms, pre, post)

    def _facet_distribution(
        self, facets: list[str], documents: list[StoredDocument]
    ) -> dict[str, dict[str, int]]:
        names = facets
        if "*" in facets:
            names = sorted(
                {name for document in documents for name in document.fields if self.index.filterable(name)}
            )
        faceting = self.settings["faceting"]
        distribution: dict[str, dict[str, int]] = {}
        for name in names:
            counts: dict[str, int] = {}
            originals: dict[str, str] = {}
            for document in documents:
                seen: set[str] = set()
                for value in flattened(document.fields.get(name)):
                    text = as_text(value)
                    key = facet_normalized(text)
                    if key in seen:
                        continue
                    seen.add(key)
                    originals.setdefault(key, text)
                    counts[key] = counts.get(key, 0) + 1
            order = faceting["sortFacetValuesBy"].get(name, faceting["sortFacetValuesBy"].get("*", "alpha"))
            keys = sorted(counts, key=functools.partial(_facet_order, counts, order == "count"))
            distribution[name] = {
                originals[key]: counts[key] for key in keys[: faceting["maxValuesPerFacet"]]
            }
        return distribution

    @staticmethod
    def _facet_stats(facets: list[str], documents: list[StoredDocument]) -> dict[str, dict[str, float]]:
        stats: dict[str, dict[str, float]] = {}
        for name in facets:
            numbers = [
                float(value)
                for document in documents
                for value in flattened(document.fields.get(name))
                if isinstance(value, int | float) and not isinstance(value, bool)
            ]
            if numbers:
                stats[name] = {"min": min(numbers), "max": max(numbers)}
        return stats


def _sort_order(left: tuple[str, bool, Any], right: tuple[str, bool, Any]) -> int:
    """Negative when `left` comes first. Documents without the value come last, numbers come
    before strings, whatever the direction."""
    _, ascending, mine = left
    _, _, theirs = right
    if mine is None or theirs is None:
        return 0 if mine is theirs else (1 if mine is None else -1)
    mine_number, theirs_number = _number(mine), _number(theirs)
    if (mine_number is None) != (theirs_number is None):
        return -1 if mine_number is not None else 1
    if mine_number is not None and theirs_number is not None:
        difference = (mine_number > theirs_number) - (mine_number < theirs_number)
    else:
        difference = (str(mine) > str(theirs)) - (str(mine) < str(theirs))
    return difference if ascending else -difference


def _facet_order(counts: dict[str, int], by_count: bool, key: str) -> tuple[int, str]:
    return (-counts[key] if by_count else 0, key)


def _similarity(left: list[float], right: list[float]) -> float:
    dot = sum(a * b for a, b in zip(left, right, strict=False))
    norms = math.sqrt(sum(a * a for a in left)) * math.sqrt(sum(b * b for b in right))
    cosine = max(-1.0, min(1.0, dot / norms)) if norms > 1e-12 else 1.0
    return 1.0 - (1.0 - cosine) / 2.0


# The server.


class MeilisearchReplay:
    """The replay's state and its Starlette app. Tests read `requests`, `tasks` and `indexes`,
    and steer it with `polls_before_done` and `fail_next_task()`."""

    def __init__(self, master_key: str | None = MASTER_KEY, *, polls_before_done: int = 1) -> None:
        self.master_key = master_key
        self.polls_before_done = polls_before_done
        self.requests: list[RecordedRequest] = []
        self.tasks: dict[int, Task] = {}
        self.indexes: dict[str, Index] = {}
        self._next_failure: MeilisearchApiError | None = None
        self._server: ServerThread | None = None
        remember_secret(master_key)

    # Steering and inspection.

    def fail_next_task(
        self,
        code: str = "no_space_left_on_device",
        message: str = "There is no more space left on the device. Consider increasing the size of the disk/partition.",
        type: str = "system",
    ) -> None:
        self._next_failure = MeilisearchApiError(500, code, message, type)

    def sent(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    # Lifecycle.

    def start(self) -> MeilisearchReplay:
        self._server = ServerThread(self.app()).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "the replay was not started"
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    # Tasks.

    def _enqueue(
        self, index_uid: str | None, type: str, details: dict[str, Any], work: Callable[[], dict[str, Any]]
    ) -> JSONResponse:
        task = Task(uid=len(self.tasks), index_uid=index_uid, type=type, details=details, work=work)
        self.tasks[task.uid] = task
        return JSONResponse(task.summary(), status_code=202)

    def _process(self, task: Task) -> None:
        for earlier in sorted(self.tasks.values(), key=lambda t: t.uid):
            if earlier.uid >= task.uid:
                break
            if not earlier.finished:
                self._finish(earlier)
        self._finish(task)

    def _finish(self, task: Task) -> None:
        task.started_at = task.started_at or _now()
        failure, self._next_failure = self._next_failure, None
        try:
            if failure is not None:
                raise failure
            task.details = task.work()
            task.status = "succeeded"
        except MeilisearchApiError as error:
            task.status = "failed"
            task.error = error.body()
        task.finished_at = _now()

    # Index state.

    def _index(self, uid: str) -> Index:
        index = self.indexes.get(uid)
        if index is None:
            raise MeilisearchApiError(404, "index_not_found", f"Index `{uid}` not found.")
        return index

    def _index_or_new(self, uid: str, primary_key: str | None = None) -> Index:
        if uid not in self.indexes:
            self.indexes[uid] = Index(uid, primary_key)
        return self.indexes[uid]

    # Routes.

    def app(self) -> Starlette:
        def endpoint(
            handler: Callable[[Request, Any], Any], *, public: bool = False
        ) -> Callable[[Request], Any]:
            async def wrapped(request: Request) -> Response:
                body: Any = None
                raw = await request.body()
                try:
                    if raw:
                        if "application/json" not in request.headers.get("content-type", ""):
                            raise MeilisearchApiError(
                                415,
                                "invalid_content_type",
                                "The Content-Type `"
                                + request.headers.get("content-type", "")
                                + "` is invalid. Accepted values for the Content-Type header are: `application/json`",
                            )
                        try:
                            body = json.loads(raw)
                        except ValueError as error:
                            raise MeilisearchApiError(
                                400,
                                "malformed_payload",
                                f"The json payload provided is malformed. `{error}`.",
                            ) from error
                    self.requests.append(
                        RecordedRequest(request.method, request.url.path, dict(request.query_params), body)
                    )
                    if not public:
                        self._authorize(request)
                    result = handler(request, body)
                    return result if isinstance(result, Response) else JSONResponse(result)
                except MeilisearchApiError as error:
                    return JSONResponse(error.body(), status_code=error.status)

            return wrapped

        return Starlette(
            routes=[
                Route("/health", endpoint(lambda r, b: {"status": "available"}, public=True)),
                Route("/version", endpoint(self._version)),
                Route("/indexes", endpoint(self._indexes), methods=["GET", "POST"]),
                Route("/indexes/{uid}", endpoint(self._one_index), methods=["GET", "DELETE"]),
                Route(
                    "/indexes/{uid}/settings", endpoint(self._settings), methods=["GET", "PATCH", "DELETE"]
                ),
                Route("/indexes/{uid}/documents", endpoint(self._documents), methods=["GET", "POST"]),
                Route(
                    "/indexes/{uid}/documents/delete-batch", endpoint(self._delete_batch), methods=["POST"]
                ),
                Route("/indexes/{uid}/documents/fetch", endpoint(self._fetch_documents), methods=["POST"]),
                Route("/indexes/{uid}/documents/{id}", endpoint(self._document), methods=["GET", "DELETE"]),
                Route("/indexes/{uid}/search", endpoint(self._search), methods=["POST"]),
                Route("/tasks", endpoint(self._task_list)),
                Route("/tasks/{uid}", endpoint(self._task)),
            ]
        )

    def _authorize(self, request: Request) -> None:
        if self.master_key is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise MeilisearchApiError(
                401,
                "missing_authorization_header",
                "The Authorization header is missing. It must use the bearer authorization method.",
                "auth",
            )
        if key.strip() != self.master_key:
            raise MeilisearchApiError(403, "invalid_api_key", "The provided API key is invalid.", "auth")

    def _version(self, request: Request, body: Any) -> dict[str, str]:
        return {"commitSha": "replay", "commitDate": "2025-01-01T00:00:00Z", "pkgVersion": "1.12.0"}

    def _indexes(self, request: Request, body: Any) -> Any:
        if request.method == "GET":
            results = [index.view() for index in sorted(self.indexes.values(), key=lambda i: i.uid)]
            return {"results": results, "offset": 0, "limit": 20, "total": len(results)}
        if not isinstance(body, dict) or "uid" not in body:
            raise MeilisearchApiError(400, "missing_index_uid", "Missing field `uid`")
        uid, primary_key = str(body["uid"]), body.get("primaryKey")
        if not _INDEX_UID.match(uid):
            raise MeilisearchApiError(
                400,
                "invalid_index_uid",
                f"`{uid}` is not a valid index uid. Index uid can be an integer or a string containing only "
                "alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.",
            )

        def create() -> dict[str, Any]:
            if uid in self.indexes:
                raise MeilisearchApiError(409, "index_already_exists", f"Index `{uid}` already exists.")
            self.indexes[uid] = Index(uid, primary_key)
            return {"primaryKey": primary_key}

        return self._enqueue(uid, "indexCreation", {"primaryKey": primary_key}, create)

    def _one_index(self, request: Request, body: Any) -> Any:
        uid = request.path_params["uid"]
        if request.method == "GET":
            return self._index(uid).view()

        def remove() -> dict[str, Any]:
            index = self._index(uid)
            del self.indexes[uid]
            return {"deletedDocuments": len(index.documents)}

        return self._enqueue(uid, "indexDeletion", {"deletedDocuments": None}, remove)

    def _settings(self, request: Request, body: Any) -> Any:
        uid = request.path_params["uid"]
        if request.method == "GET":
            return self._index(uid).settings
        if request.method == "DELETE":
            body = dict.fromkeys(default_settings())
        if not isinstance(body, dict):
            raise MeilisearchApiError(400, "bad_request", "Invalid value type: expected an object")
        known = default_settings()
        for name, value in body.items():
            if name not in known:
                raise MeilisearchApiError(
                    400,
                    "bad_request",
                    f"Unknown field `{name}`: expected one of {', '.join(f'`{k}`' for k in known)}",
                )
            self._check_setting(name, value)

        def update() -> dict[str, Any]:
            index = self._index_or_new(uid)
            for name, value in body.items():
                if value is None:
                    index.settings[name] = default_settings()[name]
                elif name in _MERGED_SETTINGS:
                    merged = dict(index.settings[name])
                    for key, inner in value.items():
                        if (
                            isinstance(inner, dict)
                            and isinstance(merged.get(key), dict)
                            and key != "sortFacetValuesBy"
                        ):
                            merged[key] = {**merged[key], **inner}
                        else:
                            merged[key] = default_settings()[name][key] if inner is None else inner
                    index.settings[name] = merged
                elif name == "embedders":
                    embedders = dict(index.settings["embedders"])
                    for embedder, options in value.items():
                        if options is None:
                            embedders.pop(embedder, None)
                        else:
                            embedders[embedder] = {**embedders.get(embedder, {}), **options}
                    index.settings["embedders"] = embedders
                else:
                    index.settings[name] = value
            index.updated_at = _now()
            return body

        return self._enqueue(uid, "settingsUpdate", body, update)

    @staticmethod
    def _check_setting(name: str, value: Any) -> None:
        if value is None:
            return
        lists = (
            "displayedAttributes",
            "searchableAttributes",
            "sortableAttributes",
            "stopWords",
            "rankingRules",
        )
        if name in lists and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            code = "invalid_settings_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
            raise MeilisearchApiError(
                400, code, f"Invalid value type at `.{name}`: expected an array, but found `{value!r}`."
            )
        if name == "typoTolerance":
            sizes = value.get("minWordSizeForTypos") or {}
            one, two = sizes.get("oneTypo", 5), sizes.get("twoTypos", 9)
            if not 0 <= one <= two <= 255:
                raise MeilisearchApiError(
                    400,
                    "invalid_settings_typo_tolerance",
                    "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between "
                    f"`0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: {one}` "
                    f"and twoTypos: {two}`.",
                )
        if name == "embedders":
            for embedder, options in value.items():
                if options is None:
                    continue
                if options.get("source") == "userProvided":
                    extra = set(options) - {"source", "dimensions", "distribution", "binaryQuantized"}
                    if extra:
                        raise MeilisearchApiError(
                            400,
                            "invalid_settings_embedders",
                            f"`.embedders.{embedder}`: Field `{sorted(extra)[0]}` unavailable for source `userProvided`.",
                        )
                    if not isinstance(options.get("dimensions"), int) or options["dimensions"] <= 0:
                        raise MeilisearchApiError(
                            400,
                            "invalid_settings_embedders",
                            f"`.embedders.{embedder}`: Missing field `dimensions` (mandatory for source `userProvided`)",
                        )

    def _documents(self, request: Request, body: Any) -> Any:
        uid = request.path_params["uid"]
        if request.method == "GET":
            index = self._index(uid)
            stored = sorted(index.documents.values(), key=lambda d: d.internal_id)
            offset = int(request.query_params.get("offset", 0))
            limit = int(request.query_params.get("limit", 20))
            results = [document.fields for document in stored[offset : offset + limit]]
            return {"results": results, "offset": offset, "limit": limit, "total": len(stored)}
        documents = [body] if isinstance(body, dict) else body
        if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
            raise MeilisearchApiError(400, "malformed_payload", "The json payload provided is malformed.")
        primary_key_param = request.query_params.get("primaryKey")

        def add() -> dict[str, Any]:
            index = self._index_or_new(uid)
            primary_key = self._primary_key(index, primary_key_param, documents)
            prepared: list[tuple[str, dict[str, Any], dict[str, list[float] | None]]] = []
            for document in documents:
                prepared.append(
                    (self._document_id(index, primary_key, document), *self._split_vectors(index, document))
                )
            index.primary_key = primary_key
            for document_id, fields, vectors in prepared:
                existing = index.documents.get(document_id)
                internal_id = existing.internal_id if existing else index.next_internal_id
                if existing is None:
                    index.next_internal_id += 1
                index.documents[document_id] = StoredDocument(internal_id, fields, vectors)
            index.updated_at = _now()
            return {"receivedDocuments": len(documents), "indexedDocuments": len(documents)}

        return self._enqueue(
            uid,
            "documentAdditionOrUpdate",
            {"receivedDocuments": len(documents), "indexedDocuments": None},
            add,
        )

    @staticmethod
    def _primary_key(index: Index, wanted: str | None, documents: list[dict[str, Any]]) -> str:
        if index.primary_key is not None:
            if wanted is not None and wanted != index.primary_key:
                raise MeilisearchApiError(
                    400,
                    "index_primary_key_already_exists",
                    f"Index `{index.uid}`: Index already has a primary key: `{index.primary_key}`.",
                )
            return index.primary_key
        if wanted is not None:
            return wanted
        candidates = sorted(
            {name for document in documents for name in document if name.lower().endswith("id")}
        )
        if len(candidates) != 1:
            code = (
                "index_primary_key_no_candidate_found"
                if not candidates
                else "index_primary_key_multiple_candidates_found"
            )
            raise MeilisearchApiError(
                400, code, f"Index `{index.uid}`: The primary key inference failed: candidates {candidates}."
            )
        return candidates[0]

    @staticmethod
    def _document_id(index: Index, primary_key: str, document: dict[str, Any]) -> str:
        value = document.get(primary_key)
        if value is None:
            raise MeilisearchApiError(
                400,
                "missing_document_id",
                f"Index `{index.uid}`: Document doesn't have a `{primary_key}` attribute: `{document}`.",
            )
        if isinstance(value, bool) or not (
            isinstance(value, int)
            or (isinstance(value, str) and _DOCUMENT_ID.match(value) and len(value.encode()) <= 511)
        ):
            raise MeilisearchApiError(
                400,
                "invalid_document_id",
                f"Index `{index.uid}`: Document identifier `{value!r}` is invalid. A document identifier can be of "
                "type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and "
                "underscores (_), and can not be more than 511 bytes.",
            )
        return str(value)

    @staticmethod
    def _split_vectors(
        index: Index, document: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[float] | None]]:
        fields = {name: value for name, value in document.items() if name != "_vectors"}
        given = document.get("_vectors") or {}
        if not isinstance(given, dict):
            raise MeilisearchApiError(
                400,
                "invalid_vectors_type",
                f"Index `{index.uid}`: The `_vectors` field in the document is not an object.",
            )
        vectors: dict[str, list[float] | None] = {}
        for name, embedder in index.settings["embedders"].items():
            value = given.get(name)
            if isinstance(value, dict):
                value = value.get("embeddings")
                if isinstance(value, list) and value and isinstance(value[0], list):
                    value = value[0]
            if value is None:
                vectors[name] = None
                continue
            if not isinstance(value, list) or not all(isinstance(x, int | float) for x in value):
                raise MeilisearchApiError(
                    400,
                    "invalid_vectors_type",
                    f"Index `{index.uid}`: The `_vectors.{name}` field in the document is not an array of floats.",
                )
            if len(value) != embedder.get("dimensions"):
                raise MeilisearchApiError(
                    400,
                    "invalid_vector_dimensions",
                    f"Index `{index.uid}`: Invalid vector dimensions: expected: `{embedder.get('dimensions')}`, "
                    f"found: `{len(value)}`.",
                )
            vectors[name] = [float(x) for x in value]
        return fields, vectors

    def _fetch_documents(self, request: Request, body: Any) -> Any:
        """`POST /indexes/{uid}/documents/fetch` (Meilisearch >= 1.2): documents in insertion
        order, `filter`ed (on filterable attributes only), paged by `offset`/`limit`, cut down
        to `fields`; `total` counts every document the filter keeps."""
        index = self._index(request.path_params["uid"])
        options = body if body is not None else {}
        if not isinstance(options, dict):
            raise MeilisearchApiError(400, "bad_request", "Invalid value type: expected an object")
        offset, limit = options.get("offset", 0), options.get("limit", 20)
        for name, value in (("offset", offset), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MeilisearchApiError(
                    400,
                    f"invalid_document_{name}",
                    f"Invalid value type at `.{name}`: expected a positive integer",
                )
        fields = options.get("fields")
        try:
            predicate = filter_predicate(options.get("filter"), index)
        except MeilisearchApiError as error:
            raise MeilisearchApiError(400, "invalid_document_filter", error.message) from error
        kept = [
            document
            for document in sorted(index.documents.values(), key=lambda d: d.internal_id)
            if predicate(document.fields)
        ]
        results = [
            document.fields
            if fields is None or "*" in fields
            else {name: value for name, value in document.fields.items() if name in fields}
            for document in kept[offset : offset + limit]
        ]
        return {"results": results, "offset": offset, "limit": limit, "total": len(kept)}

    def _delete_batch(self, request: Request, body: Any) -> Any:
        if not isinstance(body, list):
            raise MeilisearchApiError(400, "bad_request", "Invalid value type: expected an array")
        return self._deletion(request.path_params["uid"], [str(value) for value in body])

    def _document(self, request: Request, body: Any) -> Any:
        uid, document_id = request.path_params["uid"], request.path_params["id"]
        if request.method == "DELETE":
            return self._deletion(uid, [document_id])
        stored = self._index(uid).documents.get(document_id)
        if stored is None:
            raise MeilisearchApiError(404, "document_not_found", f"Document `{document_id}` not found.")
        return stored.fields

    def _deletion(self, uid: str, ids: list[str]) -> JSONResponse:
        def delete() -> dict[str, Any]:
            index = self._index(uid)
            deleted = sum(1 for document_id in ids if index.documents.pop(document_id, None) is not None)
            return {"providedIds": len(ids), "deletedDocuments": deleted}

        return self._enqueue(
            uid, "documentDeletion", {"providedIds": len(ids), "deletedDocuments": None}, delete
        )

    def _search(self, request: Request, body: Any) -> Any:
        index = self._index(request.path_params["uid"])
        return Searcher(index, body if isinstance(body, dict) else {}).run()

    def _task_list(self, request: Request, body: Any) -> Any:
        results = [task.view() for task in sorted(self.tasks.values(), key=lambda t: -t.uid)]
        return {
            "results": results,
            "total": len(results),
            "limit": 20,
            "from": results[0]["uid"] if results else None,
            "next": None,
        }

    def _task(self, request: Request, body: Any) -> Any:
        raw = request.path_params["uid"]
        if not raw.isdigit():
            raise MeilisearchApiError(
                400,
                "invalid_task_uids",
                f"Invalid value in parameter `taskUid`: could not parse `{raw}` as a positive integer",
            )
        task = self.tasks.get(int(raw))
        if task is None:
            raise MeilisearchApiError(404, "task_not_found", f"Task `{raw}` not found.")
        if not task.finished:
            task.polls += 1
            if task.polls > self.polls_before_done:
                self._process(task)
            else:
                task.status = "processing"
                task.started_at = task.started_at or _now()
        task.statuses_seen.append(task.status)
        return task.view()
