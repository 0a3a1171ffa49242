"""Stage: coding — the codebook as an object: problem (and measure) types with names, colours and keyword rules.

Any module above the reading stage may import it. The codebook lives in YAML (``config.CODEBOOK_PATH`` for
problem types, ``config.MEASURE_CODEBOOK_PATH`` for measure types, same schema)::

    version: 1
    codes:
      - code: elderly_care
        name_zh: 养老服务
        name_en: Elderly care
        color: "#1b9e77"
        definition: "…"
        include: ["…"]
        exclude: ["…"]
        rules:
          - any: [养老机构, 敬老院]   # at least one of these
            weight: 2                # optional, default 1
          - all: [福利院, 老人]       # every one of these
            none: [儿童]             # and none of these

An optional top-level ``sector:`` block (:class:`Sector`: ``name_zh``, ``name_en``, ``agencies``,
``field_codes``, ``other_units``) names the sector the codebook details; problems of units outside it are
coded by DESIGN.md §4's line-of-business boundary (:mod:`compare.classify`).

A rule matches a text when every ``all`` term occurs, at least one ``any`` term occurs (when ``any`` is
given) and no ``none`` term occurs; the tests are plain substring tests, so the text is expected to be
normalised simplified Chinese already. A code's score is the sum of the weights of its matching rules, and
the matched ``all``/``any`` terms are kept as evidence.

:func:`load_codebook` validates the file and raises :class:`ValueError` naming the file (and the code)
for unknown keys, duplicate codes or colours, rules without terms and malformed colours. Figures take
their labels from :meth:`Codebook.name` and their colours from :meth:`Codebook.palette`, so one type has
one colour in every chart.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import yaml

__all__ = ["Code", "Codebook", "Rule", "RuleScore", "Sector", "load_codebook", "parse_codebook", "terms_within"]

_TOP_KEYS = {"version", "codes", "description", "sector"}
_SECTOR_KEYS = {"name_zh", "name_en", "agencies", "field_codes", "other_units"}
_CODE_KEYS = {"code", "name_zh", "name_en", "color", "definition", "include", "exclude", "rules"}
_REQUIRED_CODE_KEYS = ("code", "name_zh", "name_en", "color", "rules")
_RULE_KEYS = {"any", "all", "none", "weight"}
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_LANGS = ("zh", "en")


@dataclass(frozen=True)
class Rule:
    """One keyword rule of a code.

    Parameters
    ----------
    any : tuple of str
        At least one of these terms must occur (ignored when empty).
    all : tuple of str
        Every one of these terms must occur.
    none : tuple of str
        None of these terms may occur.
    weight : float
        What a match adds to the code's score.
    """

    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    weight: float = 1.0

    def match(self, text: str) -> tuple[str, ...] | None:
        """Return the matched terms (``all`` terms, then the ``any`` terms found) or ``None``.

        Parameters
        ----------
        text : str
            Normalised simplified-Chinese text.

        Returns
        -------
        tuple of str or None
            The evidence when the rule matches, else ``None``.
        """
        return self.match_found({term for term in (*self.none, *self.all, *self.any) if term in text})

    def match_found(self, found: frozenset[str] | set[str]) -> tuple[str, ...] | None:
        """:meth:`match` given the set of this codebook's terms that occur in the text (same result)."""
        if not found.isdisjoint(self.none):
            return None
        if not all(term in found for term in self.all):
            return None
        found_any = tuple(term for term in self.any if term in found)
        if self.any and not found_any:
            return None
        return self.all + found_any


@dataclass(frozen=True)
class RuleScore:
    """Score of one code on one text: summed rule weights and the matched terms (the evidence)."""

    score: float
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Sector:
    """The policy sector a codebook describes in detail (the optional ``sector:`` block of the YAML).

    A problem of a unit outside the sector (its agency or issuer contains none of ``agencies``) that is about
    the unit's own line of business belongs to ``other_units`` (DESIGN.md §4): the sector's field codes
    (``field_codes``) do not apply to it.

    Attributes
    ----------
    name_zh, name_en : str
        E.g. 民政 / civil affairs.
    agencies : tuple of str
        Substrings of a report's ``agency`` (or ``issuer``) that mark a unit of the sector, e.g. ``民政``.
    field_codes : tuple of str
        The codes of the sector's own fields (养老, 救助 …); the other codes are cross-cutting.
    other_units : str
        The code of line-of-business problems of units outside the sector (``mandate_general``).
    """

    name_zh: str
    name_en: str
    agencies: tuple[str, ...]
    field_codes: tuple[str, ...]
    other_units: str

    def covers(self, unit) -> bool:
        """Whether ``unit`` (an agency or issuer string) belongs to the sector; an unknown unit (None, "")
        is taken to belong to it (the codebook's own sector is the default)."""
        if unit is None or (isinstance(unit, float) and unit != unit) or not str(unit).strip():
            return True
        return any(a in str(unit) for a in self.agencies)


@dataclass(frozen=True)
class Code:
    """One type of the codebook (see the module docstring for the fields)."""

    code: str
    name_zh: str
    name_en: str
    color: str
    definition: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    rules: tuple[Rule, ...]

    def name(self, lang: str = "zh") -> str:
        """Return the Chinese (``lang="zh"``) or English (``lang="en"``) name."""
        check_lang(lang)
        return self.name_zh if lang == "zh" else self.name_en

    def score(self, text: str) -> RuleScore:
        """Return the summed weight of the matching rules and their matched terms.

        Parameters
        ----------
        text : str
            Normalised simplified-Chinese text.

        Returns
        -------
        RuleScore
            ``score`` 0.0 and no terms when no rule matches.
        """
        return _sum_rules(_weighted(rule, rule.match(text)) for rule in self.rules)


def _weighted(rule: Rule, found: tuple[str, ...] | None) -> tuple[tuple[str, ...], float] | None:
    return None if found is None else (found, rule.weight)


def _sum_rules(matches: Iterator[tuple[tuple[str, ...], float] | None]) -> RuleScore:
    """The :class:`RuleScore` of a code from its rules' ``(terms, weight)`` matches (None: no match), in order."""
    total = 0.0
    terms: list[str] = []
    for m in matches:
        if m is None:
            continue
        found, weight = m
        total += weight
        terms.extend(t for t in found if t not in terms)
    return RuleScore(score=total, terms=tuple(terms))


class Codebook:
    """An ordered, validated set of :class:`Code` (build it with :func:`load_codebook`).

    Parameters
    ----------
    codes : sequence of Code
        The codes in codebook order (the order of every table and figure).
    version : int, optional
        The file's ``version``.
    path : pathlib.Path, optional
        Where the codebook was read from.

    Attributes
    ----------
    codes : list of Code
    ids : list of str
        The code ids in codebook order.
    """

    def __init__(self, codes, version: int | None = None, path: Path | None = None,
                 sector: Sector | None = None):
        self.codes: list[Code] = list(codes)
        self.version = version
        self.path = path
        self.sector = sector
        self._by_id = {c.code: c for c in self.codes}
        self._term_index: _TermIndex | None = None
        if len(self._by_id) != len(self.codes):
            raise ValueError(f"{path}: duplicate codes")

    @property
    def ids(self) -> list[str]:
        """Code ids in codebook order."""
        return [c.code for c in self.codes]

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return code in self._by_id

    def __getitem__(self, code: str) -> Code:
        try:
            return self._by_id[code]
        except KeyError:
            raise KeyError(f"unknown code {code!r} (codebook {self.path}; codes: {', '.join(self.ids)})") from None

    def __repr__(self) -> str:
        return f"Codebook({len(self)} codes from {self.path})"

    def __eq__(self, other) -> bool:
        """Equal codes (with their rules) and version: a copy equals its original (scikit-learn's ``clone``)."""
        if not isinstance(other, Codebook):
            return NotImplemented
        return (self.codes == other.codes and self.version == other.version
                and getattr(self, "sector", None) == getattr(other, "sector", None))

    def __hash__(self) -> int:
        return hash((tuple(self.ids), self.version))

    def name(self, code: str, lang: str = "zh") -> str:
        """Return the name of ``code`` in Chinese (``"zh"``) or English (``"en"``).

        Raises
        ------
        KeyError
            For a code that is not in the codebook.
        """
        return self[code].name(lang)

    def names(self, lang: str = "zh") -> dict[str, str]:
        """Return ``{code: name}`` in codebook order."""
        return {c.code: c.name(lang) for c in self.codes}

    def color(self, code: str) -> str:
        """Return the colour (hex string) of ``code``."""
        return self[code].color

    def palette(self) -> dict[str, str]:
        """Return ``{code: colour}`` in codebook order: one colour per type in every figure."""
        return {c.code: c.color for c in self.codes}

    def score(self, text: str) -> dict[str, RuleScore]:
        """Score ``text`` against every code.

        Parameters
        ----------
        text : str
            Normalised simplified-Chinese text (e.g. a problem's title and text).

        Returns
        -------
        dict of str to RuleScore
            Every code in codebook order, with score 0.0 and no terms where no rule matches.
        """
        index = self._index()
        return index.score_found(index.terms_in(text or ""), self.codes)

    def occurrences(self, text: str) -> list[tuple[int, str]]:
        """Every occurrence of a rule term in ``text`` (overlapping ones included) as ``(end, term)``, ``end`` the
        index of its last character, in order of ``end``: one pass of the term index, from which
        :func:`terms_within` gives the terms of any part of the text."""
        return self._index().occurrences(text or "")

    def score_terms(self, found: frozenset[str]) -> dict[str, RuleScore]:
        """:meth:`score` of a text whose rule terms are ``found`` (e.g. from :func:`terms_within`)."""
        return self._index().score_found(found, self.codes)

    def _index(self) -> _TermIndex:
        if getattr(self, "_term_index", None) is None:  # also a Codebook pickled before the index existed
            self._term_index = _TermIndex(self.codes)
        return self._term_index

    def __getstate__(self) -> dict:
        # the term index is rebuilt on demand (cheap), not pickled with a model
        return {**self.__dict__, "_term_index": None}

    def to_frame(self):
        """Return the codebook as a DataFrame (code, name_zh, name_en, color, definition, include, exclude)."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "color": c.color,
                    "definition": c.definition, "include": list(c.include), "exclude": list(c.exclude),
                    "n_rules": len(c.rules),
                }
                for c in self.codes
            ]
        )


class _TermIndex:
    """Which rule terms occur in a text, in one pass: an Aho-Corasick automaton (pyahocorasick) of every term.

    Scoring a text then only evaluates the rules that one of the found terms can trigger (its ``any`` or
    ``all`` terms), in codebook order, so :meth:`Codebook.score` gives what testing every rule with ``in``
    gives (:meth:`Code.score`) at a fraction of the cost on a large corpus.
    """

    def __init__(self, codes: list[Code]):
        import ahocorasick

        self.triggers: dict[str, list[tuple[int, int]]] = {}
        self.always: list[tuple[int, int]] = []  # rules without any/all terms (only built in code) always run
        terms: set[str] = set()
        for ci, code in enumerate(codes):
            for ri, rule in enumerate(code.rules):
                terms.update(rule.any, rule.all, rule.none)
                for t in dict.fromkeys(rule.any + rule.all):
                    self.triggers.setdefault(t, []).append((ci, ri))
                if not rule.any and not rule.all:
                    self.always.append((ci, ri))
        self.automaton = None
        self._memo: dict[frozenset[str], dict[str, RuleScore]] = {}  # score_found of the sets seen (bounded)
        if terms:
            self.automaton = ahocorasick.Automaton()
            for t in terms:
                self.automaton.add_word(t, t)
            self.automaton.make_automaton()

    def score_found(self, found: frozenset[str], codes: list[Code]) -> dict[str, RuleScore]:
        """:meth:`Codebook.score` of a text whose indexed terms are ``found``: a function of ``found`` alone, so
        the scores of a set already seen (most short texts share a few) are read from a bounded memo."""
        hit_memo = self._memo.get(found)
        if hit_memo is not None:
            return dict(hit_memo)
        hit: dict[int, list[int]] = {}
        for ci, ri in sorted({*self.always, *(cr for t in found for cr in self.triggers.get(t, ()))}):
            hit.setdefault(ci, []).append(ri)
        empty = RuleScore(score=0.0, terms=())
        out = {}
        for ci, code in enumerate(codes):
            rules = hit.get(ci)
            if not rules:
                out[code.code] = empty
                continue
            out[code.code] = _sum_rules(
                _weighted(code.rules[ri], code.rules[ri].match_found(found)) for ri in rules
            )
        if len(self._memo) >= 50_000:
            self._memo.clear()
        self._memo[found] = out
        return dict(out)

    def terms_in(self, text: str) -> frozenset[str]:
        """The indexed terms that occur in ``text`` (overlapping occurrences included)."""
        return frozenset(map(itemgetter(1), self.occurrences(text)))

    def occurrences(self, text: str) -> list[tuple[int, str]]:
        """``(end, term)`` of every occurrence in ``text``, in order of ``end`` (:meth:`Codebook.occurrences`)."""
        if self.automaton is None or not text:
            return []
        return list(self.automaton.iter(text))


def terms_within(occurrences: list[tuple[int, str]], start: int, end: int) -> frozenset[str]:
    """The terms of :meth:`Codebook.occurrences` that lie wholly in ``text[start:end]``: the terms
    :meth:`Codebook.score` finds in that part of the text (the occurrences ending there found by bisection)."""
    end_of = itemgetter(0)
    hits = occurrences[bisect.bisect_left(occurrences, start, key=end_of):bisect.bisect_left(occurrences, end, key=end_of)]
    return frozenset(t for e, t in hits if e - len(t) + 1 >= start)


def check_lang(lang: str) -> None:
    """Raise ``ValueError`` unless ``lang`` is ``"zh"`` or ``"en"`` (the languages of a codebook's names)."""
    if lang not in _LANGS:
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")


def _terms(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str | int | float) for t in value):
        raise ValueError(f"{where}: expected a list of strings, got {value!r}")
    terms = tuple(str(t) for t in value)
    if any(not t.strip() for t in terms):
        raise ValueError(f"{where}: empty term")
    return terms


def _check_keys(raw: Mapping, allowed, where: str, what: str = "keys") -> None:
    """A codebook mapping names only ``allowed`` keys (a typo is an error, never silently ignored)."""
    unknown = set(raw) - set(allowed)
    if unknown:
        raise ValueError(f"{where}: unknown {what} {sorted(unknown)} (allowed: {sorted(allowed)})")


def _parse_rule(raw, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a rule must be a mapping with any/all/none/weight, got {raw!r}")
    _check_keys(raw, _RULE_KEYS, where, "rule keys")
    any_ = _terms(raw.get("any"), where + " any")
    all_ = _terms(raw.get("all"), where + " all")
    none = _terms(raw.get("none"), where + " none")
    if not any_ and not all_:
        raise ValueError(f"{where}: empty rule (needs at least one 'any' or 'all' term)")
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise ValueError(f"{where}: weight must be a positive number, got {weight!r}")
    return Rule(any=any_, all=all_, none=none, weight=float(weight))


def _parse_sector(raw, path: Path, ids: list[str]) -> Sector | None:
    """The ``sector:`` block (None when absent), its codes checked against the codebook's ``ids``."""
    if raw is None:
        return None
    where = f"{path}: sector"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a mapping with {sorted(_SECTOR_KEYS)}")
    _check_keys(raw, _SECTOR_KEYS, where)
    agencies = _terms(raw.get("agencies"), where + " agencies")
    fields = _terms(raw.get("field_codes"), where + " field_codes")
    other = raw.get("other_units")
    if not agencies:
        raise ValueError(f"{where}: agencies must name at least one agency (e.g. 民政)")
    bad = [c for c in (*fields, other) if c not in ids]
    if bad:
        raise ValueError(f"{where}: unknown code(s) {bad} (codes: {', '.join(ids)})")
    if other in fields:
        raise ValueError(f"{where}: other_units {other!r} cannot be one of the field_codes")
    return Sector(name_zh=str(raw.get("name_zh", "")).strip(), name_en=str(raw.get("name_en", "")).strip(),
                  agencies=agencies, field_codes=fields, other_units=other)


def _parse_code(raw, i: int, path: Path) -> Code:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: codes[{i}] must be a mapping, got {raw!r}")
    name = raw.get("code", f"codes[{i}]")
    where = f"{path}: code {name!r}"
    _check_keys(raw, _CODE_KEYS, where)
    missing = [k for k in _REQUIRED_CODE_KEYS if k not in raw]
    if missing:
        raise ValueError(f"{where}: missing keys {missing}")
    code = raw["code"]
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise ValueError(f"{where}: code ids are lower-case ascii identifiers like 'elderly_care'")
    for key in ("name_zh", "name_en"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ValueError(f"{where}: {key} must be a non-empty string")
    color = raw["color"]
    if not isinstance(color, str) or not _COLOR_RE.match(color):
        raise ValueError(f"{where}: bad colour {color!r} (expected a hex colour like '#1b9e77')")
    rules_raw = raw["rules"]
    if not isinstance(rules_raw, list) or not rules_raw:
        raise ValueError(f"{where}: empty rules (needs a non-empty list of rules)")
    rules = tuple(_parse_rule(r, f"{where} rule {j + 1}") for j, r in enumerate(rules_raw))
    definition = raw.get("definition") or ""
    if not isinstance(definition, str):
        raise ValueError(f"{where}: definition must be a string")
    return Code(
        code=code,
        name_zh=raw["name_zh"].strip(),
        name_en=raw["name_en"].strip(),
        color=color.lower(),
        definition=definition.strip(),
        include=_terms(raw.get("include"), where + " include"),
        exclude=_terms(raw.get("exclude"), where + " exclude"),
        rules=rules,
    )


def parse_codebook(data, path: Path | str = "<codebook>") -> Codebook:
    """Validate already-loaded YAML data and build a :class:`Codebook`.

    Parameters
    ----------
    data : mapping
        The parsed YAML (``{"version": ..., "codes": [...]}``).
    path : path or str
        Used in error messages.

    Returns
    -------
    Codebook

    Raises
    ------
    ValueError
        Naming ``path`` and the offending code.
    """
    path = Path(path)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a codebook is a mapping with 'version' and 'codes'")
    _check_keys(data, _TOP_KEYS, str(path), "top-level keys")
    raw_codes = data.get("codes")
    if not isinstance(raw_codes, list) or not raw_codes:
        raise ValueError(f"{path}: 'codes' must be a non-empty list")
    codes = [_parse_code(raw, i, path) for i, raw in enumerate(raw_codes)]
    seen: dict[str, str] = {}
    colours: dict[str, str] = {}
    for c in codes:
        if c.code in seen:
            raise ValueError(f"{path}: duplicate code {c.code!r}")
        seen[c.code] = c.code
        if c.color in colours:
            raise ValueError(
                f"{path}: code {c.code!r} reuses the colour {c.color} of {colours[c.color]!r} "
                "(figures need one colour per type)"
            )
        colours[c.color] = c.code
    version = data.get("version")
    sector = _parse_sector(data.get("sector"), path, [c.code for c in codes])
    return Codebook(codes, version=version, path=path, sector=sector)


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, size: int) -> Codebook:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{p}: not valid YAML: {exc}") from exc
    return parse_codebook(data, p)


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        E.g. ``config.CODEBOOK_PATH`` (problem types) or ``config.MEASURE_CODEBOOK_PATH`` (measure types).
        ``None`` still means the problem codebook, for one release: library code passes the path (or the
        Codebook) it was given instead. Results are cached until the file changes.

    Returns
    -------
    Codebook

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        For a file that is not UTF-8, invalid YAML, unknown keys, duplicate codes or colours, empty rules or
        malformed colours; the message names the file, the code and what is wrong.
    """
    p = Path(path)
    p = p.resolve()
    if not p.is_file():
        raise FileNotFoundError(f"codebook not found: {p}")
    st = p.stat()
    return _load_cached(str(p), st.st_mtime_ns, st.st_size)
