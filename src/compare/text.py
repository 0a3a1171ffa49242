"""Stage 6: words — a jieba tokenizer with the domain dictionary and stopwords, cached by content hash.

:class:`JiebaTokenizer` is the callable that every vectorizer of the package plugs in as its
``tokenizer``: it segments with its *own* :class:`jieba.Tokenizer` (the global ``jieba`` dictionary is
never touched) loaded with ``data/userdict.txt``, and drops stopwords (``data/stopwords.txt``),
punctuation, whitespace and pure numbers.

Caching. Segmenting is the slow part, so the raw segmentation of a text is cached in memory and on disk
under ``config.CACHE_DIR / "tokens"``, keyed by the sha256 of the text and of the tokenizer's dictionary
(user-dictionary content, HMM flag, jieba version). Stopwords are applied after the cache, so editing the
codebook or the stopwords never re-segments text; editing the user dictionary does (it changes the key).

The tokenizer is picklable and self-contained: it keeps the *content* of its user dictionary and
stopword list, so a model saved with :mod:`joblib` segments the same way wherever it is loaded.

:func:`vocab_check` audits the codebooks against the dictionary: every rule term that jieba splits apart
(the user dictionary should protect it) and every term that never occurs in the bundled corpus.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from cachetools import LRUCache

from . import config

__all__ = ["JiebaTokenizer", "default_tokenizer", "read_wordlist", "vocab_check"]

#: Pure numbers: arabic (half/full width) digits with decimal points, separators, percent signs.
_NUMBER_RE = re.compile(r"^[\d.．,，%％‰+\-~～]+$")
#: Chinese numerals on their own (一, 二十, 三百) — ordinals of 一是/二是 and counts, no content.
_CN_NUMBER_RE = re.compile(r"^[零〇一二两三四五六七八九十百千万亿]+$")

#: Tokens each in-memory cache of a tokenizer holds at most (about 60 bytes each; least recently used go).
MEMORY_CACHE_TOKENS = 500_000

_JIEBA_LOCK = threading.Lock()
#: One initialised jieba.Tokenizer per dictionary hash, shared by every JiebaTokenizer in the process.
_JIEBA_INSTANCES: dict[str, object] = {}


def read_wordlist(path: str | os.PathLike | None) -> str:
    """Return the text of a user dictionary or stopword file (``""`` when ``path`` is None or missing).

    Parameters
    ----------
    path : path-like or None
        A UTF-8 text file, one entry per line; lines starting with ``#`` are comments.

    Returns
    -------
    str
        The file's content without comment lines and blank lines, one entry per line.
    """
    if path is None:
        return ""
    p = Path(path)
    if not p.is_file():
        return ""
    lines = []
    for line in p.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return "\n".join(lines)


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZC" or ch.isspace() for ch in token)


def _sha(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class JiebaTokenizer:
    """Segment Chinese text with jieba, the domain user dictionary and stopwords.

    Parameters
    ----------
    userdict : path-like, optional
        jieba user dictionary (``word [freq] [tag]`` per line). Defaults to ``config.USERDICT_PATH``;
        pass ``False`` for none. The file is read once, at construction.
    stopwords : path-like, optional
        One stopword per line. Defaults to ``config.STOPWORDS_PATH``; pass ``False`` for none.
    hmm : bool
        Let jieba's HMM join unknown words (jieba's default).
    drop_numbers : bool
        Drop pure numbers (``2024``, ``95``, ``30.5%``) and bare Chinese numerals (``一``, ``二十``).
    min_length : int
        Drop tokens shorter than this (1 keeps single characters such as 党).
    cache : bool
        Cache segmentations on disk under ``cache_dir`` (the in-memory cache is always on).
    cache_dir : path-like, optional
        Defaults to ``config.CACHE_DIR / "tokens"``.

    Attributes
    ----------
    userdict_text, stopwords_text : str
        The dictionary and stopword content the tokenizer works with (pickled with it).
    stopwords_ : frozenset of str
    dict_hash_ : str
        Hash of everything that decides the segmentation (user dictionary, HMM flag, jieba version).

    Examples
    --------
    >>> tok = JiebaTokenizer()                                    # doctest: +SKIP
    >>> tok("进一步规范低保边缘家庭认定")                            # doctest: +SKIP
    ['规范', '低保边缘家庭', '认定']
    """

    def __init__(
        self,
        userdict=None,
        stopwords=None,
        hmm: bool = True,
        drop_numbers: bool = True,
        min_length: int = 1,
        cache: bool = True,
        cache_dir=None,
    ):
        self.userdict = userdict
        self.stopwords = stopwords
        self.hmm = hmm
        self.drop_numbers = drop_numbers
        self.min_length = min_length
        self.cache = cache
        self.cache_dir = cache_dir
        ud = config.USERDICT_PATH if userdict is None else (userdict or None)
        sw = config.STOPWORDS_PATH if stopwords is None else (stopwords or None)
        self.userdict_text = read_wordlist(ud)
        self.stopwords_text = read_wordlist(sw)
        self._setup()

    # -- state ---------------------------------------------------------------------------------------------
    def _setup(self) -> None:
        import jieba

        self.stopwords_ = frozenset(self.stopwords_text.split("\n")) - {""}
        self.dict_hash_ = _sha("jieba", jieba.__version__, f"hmm={self.hmm}", self.userdict_text)
        # in-memory caches bounded by the number of tokens they hold (an LRU of cachetools), so a corpus of
        # any size never piles its segmentations up in memory: the disk cache is the long-term store
        self._memory: LRUCache = LRUCache(maxsize=MEMORY_CACHE_TOKENS, getsizeof=len)
        self._tokens: LRUCache = LRUCache(maxsize=MEMORY_CACHE_TOKENS, getsizeof=len)
        self._kept: dict[str, bool] = {}  # keep() of every distinct raw token seen (a vocabulary, not a corpus)
        self._pid = os.getpid()

    def __getstate__(self) -> dict:
        # the jieba instance and the caches are rebuilt on demand; only parameters and content travel
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_") and not k.endswith("_")}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._setup()

    def __repr__(self) -> str:
        n_words = self.userdict_text.count("\n") + 1 if self.userdict_text else 0
        return (
            f"JiebaTokenizer({n_words} user words, {len(self.stopwords_)} stopwords, hmm={self.hmm}, "
            f"dict={self.dict_hash_[:8]})"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, JiebaTokenizer) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.dict_hash_, self.stopwords_))

    @property
    def jieba(self):
        """The initialised :class:`jieba.Tokenizer` of this dictionary (shared across instances)."""
        with _JIEBA_LOCK:
            tk = _JIEBA_INSTANCES.get(self.dict_hash_)
            if tk is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                if self.userdict_text:
                    tk.load_userdict(io.StringIO(self.userdict_text))
                _JIEBA_INSTANCES[self.dict_hash_] = tk
            return tk

    # -- segmentation --------------------------------------------------------------------------------------
    def _cache_file(self, key: str) -> Path:
        base = Path(self.cache_dir) if self.cache_dir else config.CACHE_DIR / "tokens"
        return base / key[:2] / f"{key}.json"

    def segment(self, text: str) -> list[str]:
        """Return jieba's raw segmentation of ``text`` (punctuation and stopwords kept), cached.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str
            Tokens whose concatenation is ``text``.
        """
        text = text or ""
        key = _sha(self.dict_hash_, text)
        hit = self._memory.get(key)
        if hit is not None:
            return hit
        tokens = None
        path = self._cache_file(key) if self.cache else None
        if path is not None and path.is_file():
            try:
                tokens = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # a damaged entry is recomputed
                tokens = None
        if tokens is None:
            tokens = list(self.jieba.cut(text, HMM=self.hmm))
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                    tmp.write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
                    os.replace(tmp, path)
                except OSError:  # a read-only cache is not an error
                    pass
        if len(tokens) <= MEMORY_CACHE_TOKENS:
            self._memory[key] = tokens
        return tokens

    def keep(self, token: str) -> bool:
        """Whether a raw token is kept: not whitespace, punctuation, a pure number or a stopword."""
        token = token.strip()
        if len(token) < max(self.min_length, 1) or _is_punct(token):
            return False
        if self.drop_numbers and (_NUMBER_RE.match(token) or _CN_NUMBER_RE.match(token)):
            return False
        return token not in self.stopwords_

    def tokenize(self, text: str) -> list[str]:
        """Return the content tokens of ``text``.

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str
            The segmentation without whitespace, punctuation, pure numbers and stopwords.
        """
        text = text or ""
        hit = self._tokens.get(text)
        if hit is None:
            kept = self._kept
            if len(kept) > 1_000_000:  # a vocabulary this large is not a vocabulary: start over
                kept.clear()
            hit = []
            for t in self.segment(text):
                ok = kept.get(t)
                if ok is None:
                    ok = kept[t] = self.keep(t)
                if ok:
                    hit.append(t.strip())
            if len(hit) <= MEMORY_CACHE_TOKENS:
                self._tokens[text] = hit
        return list(hit)

    __call__ = tokenize

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`tokenize` over several texts."""
        return [self.tokenize(t) for t in texts]

    def is_split(self, term: str) -> tuple[str, ...]:
        """Return jieba's segmentation of ``term`` on its own (one element when the term survives)."""
        return tuple(t for t in self.segment(term) if t.strip())


_DEFAULT: JiebaTokenizer | None = None


def default_tokenizer() -> JiebaTokenizer:
    """Return a process-wide :class:`JiebaTokenizer` with the project's dictionary and stopwords."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = JiebaTokenizer()
    return _DEFAULT


def _codebook_terms(codebook, name: str) -> list[dict]:
    rows: dict[tuple[str, str], dict] = {}
    for code in codebook:
        for rule in code.rules:
            for role, terms in (("all", rule.all), ("any", rule.any), ("none", rule.none)):
                for term in terms:
                    row = rows.setdefault(
                        (code.code, term), {"codebook": name, "code": code.code, "term": term, "roles": []}
                    )
                    if role not in row["roles"]:
                        row["roles"].append(role)
    return list(rows.values())


def vocab_check(
    corpus=None, tokenizer: JiebaTokenizer | None = None, codebooks: dict | None = None
) -> pd.DataFrame:
    """Audit every codebook rule term against the tokenizer and the corpus.

    A term is *split* when the tokenizer, segmenting the term on its own, does not return it as one
    token (the user dictionary should protect it; otherwise a word feature can never see it). Terms with
    punctuation (``学习《``) are substring *patterns*, not words, and are not checked for splitting. A term
    is *unmatched* when no problem text (title and text) or measure text of the corpus contains it.

    Parameters
    ----------
    corpus : compare.tables.Corpus, optional
        Defaults to the bundled reports (``load_reports()``).
    tokenizer : JiebaTokenizer, optional
        Defaults to :func:`default_tokenizer`.
    codebooks : dict of str to Codebook, optional
        Defaults to ``{"problem": load_codebook(), "measure": load_codebook(config.MEASURE_CODEBOOK_PATH)}``.

    Returns
    -------
    pandas.DataFrame
        One row per (codebook, code, term): ``codebook``, ``code``, ``term``, ``roles`` (all/any/none
        joined by ``;``), ``tokens`` (the segmentation, joined by ``/``), ``pattern`` (bool), ``split`` (bool),
        ``n_problems`` and ``n_measures`` (texts containing the term), ``unmatched`` (bool).

    Examples
    --------
    >>> df = vocab_check()                                           # doctest: +SKIP
    >>> df.loc[df.split, ["code", "term", "tokens"]]                # doctest: +SKIP
    """
    from .codebook import load_codebook

    if corpus is None:
        from .study import load_reports

        corpus = load_reports()
    tok = tokenizer or default_tokenizer()
    if codebooks is None:
        codebooks = {"problem": load_codebook(), "measure": load_codebook(config.MEASURE_CODEBOOK_PATH)}
    p = corpus.problems
    problem_texts = (p["title"].fillna("") + "\n" + p["text"].fillna("")).tolist()
    measure_texts = corpus.measures["text"].fillna("").tolist()
    rows = []
    for name, cb in codebooks.items():
        rows += _codebook_terms(cb, name)
    for row in rows:
        term = row["term"]
        seg = tok.is_split(term)
        row["roles"] = ";".join(row["roles"])
        row["tokens"] = "/".join(seg)
        # a term with punctuation (学习《) is a substring pattern, not a word: no tokenizer keeps it whole
        row["pattern"] = any(_is_punct(ch) for ch in term)
        row["split"] = len(seg) != 1 and not row["pattern"]
        row["n_problems"] = sum(term in t for t in problem_texts)
        row["n_measures"] = sum(term in t for t in measure_texts)
        row["unmatched"] = row["n_problems"] == 0 and row["n_measures"] == 0
    cols = [
        "codebook",
        "code",
        "term",
        "roles",
        "tokens",
        "pattern",
        "split",
        "n_problems",
        "n_measures",
        "unmatched",
    ]
    return pd.DataFrame(rows, columns=cols)
