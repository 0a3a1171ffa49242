"""Stage: words — the jieba tokenizer with the domain dictionary and stopwords, cached by content hash.

:class:`JiebaTokenizer` is the callable that every vectorizer of the package plugs in as its
``tokenizer``: it segments with its *own* :class:`jieba.Tokenizer` (the global ``jieba`` dictionary is
never touched) loaded with a user dictionary, and drops stopwords, punctuation, whitespace and pure numbers.
The entry points make the one with the bundled dictionary and stopwords (:class:`compare.study.Study`).

Caching. Segmenting is the slow part, so the raw segmentation of a text is cached in memory and, when the
tokenizer is given a :class:`compare.cache.Cache`, on disk as JSON (kind ``"tokens"``), keyed by a digest of
the text and of the tokenizer's dictionary (user-dictionary content, HMM flag, jieba version). Stopwords are
applied after the cache, so editing the codebook or the stopwords never re-segments text; editing the user
dictionary does (it changes the key).

The tokenizer is picklable and self-contained: it keeps the *content* of its user dictionary and
stopword list, so a model saved with :mod:`joblib` segments the same way wherever it is loaded.

:func:`segment_report` segments one report's problem documents (:func:`compare.documents.problem_document`)
and measure texts, taking each measure's tokens from its problem's segmentation wherever that is exact.
"""

from __future__ import annotations

import bisect
import io
import logging
import os
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from cachetools import LRUCache

from .cache import Cache, digest
from .documents import problem_document

__all__ = ["JiebaTokenizer", "KnownTokens", "is_punct", "problem_tokens", "read_wordlist", "segment_report"]

#: Pure numbers: arabic (half/full width) digits with decimal points, separators, percent signs.
_NUMBER_RE = re.compile(r"^[\d.．,，%％‰+\-~～]+$")
#: Chinese numerals on their own (一, 二十, 三百) — ordinals of 一是/二是 and counts, no content.
_CN_NUMBER_RE = re.compile(r"^[零〇一二两三四五六七八九十百千万亿]+$")

#: Tokens each in-memory cache of a tokenizer holds at most (about 60 bytes each; least recently used go).
MEMORY_CACHE_TOKENS = 500_000

_JIEBA_LOCK = threading.Lock()
#: One initialised jieba.Tokenizer per dictionary hash, shared by every JiebaTokenizer in the process.
_JIEBA_INSTANCES: dict[str, object] = {}
#: The in-memory segmentations per dictionary hash (:func:`_shared_segmentations`).
_SEGMENTATIONS: dict[tuple[str, str | None], LRUCache] = {}


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


def is_punct(token: str) -> bool:
    """Whether ``token`` is only punctuation, symbols, separators, control characters or whitespace."""
    return all(unicodedata.category(ch)[0] in "PSZC" or ch.isspace() for ch in token)


def _shared_segmentations(dict_hash: str, store: Cache | None) -> LRUCache:
    """The in-memory segmentations of one dictionary and disk cache, shared by the tokenizers of both.

    A segmentation is a function of the dictionary and the text alone, so a model's own tokenizer (loaded
    with the model and given the study's cache) finds what the per-file stage's tokenizer segmented instead
    of segmenting it again. Tokenizers of another disk cache keep their own memory, so each still fills its
    cache.
    """
    key = (dict_hash, str(store.root) if store is not None and store.enabled else None)
    memory = _SEGMENTATIONS.get(key)
    if memory is None:
        with _JIEBA_LOCK:
            memory = _SEGMENTATIONS.setdefault(key, LRUCache(maxsize=MEMORY_CACHE_TOKENS, getsizeof=len))
    return memory


def _initialize(tk) -> None:
    """``tk.initialize()``: jieba's prefix dictionary, read from jieba's own cache file in one piece.

    jieba keeps its default dictionary's prefix dictionary in a marshal file (``jieba.cache`` in the temporary
    folder, or ``tk.tmp_dir``/``tk.cache_file``), but reads it back with ``marshal.load`` on the open file, which
    goes through the file object piece by piece: 1.5 s on this project's two-core machine, against 0.4 s for
    ``marshal.loads`` of the file's bytes (measured). So the file jieba wrote is read here in one read; a missing
    or damaged file, or another dictionary, goes through jieba's own ``initialize`` (which writes the file).
    """
    import marshal
    import tempfile

    import jieba

    if tk.dictionary == jieba.DEFAULT_DICT and not tk.initialized:
        path = Path(tk.tmp_dir or tempfile.gettempdir()) / (tk.cache_file or "jieba.cache")
        try:
            freq, total = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            freq = total = None
        if isinstance(freq, dict) and freq and isinstance(total, int):
            tk.FREQ, tk.total, tk.initialized = freq, total, True
            return
    tk.initialize()


class JiebaTokenizer:
    """Segment Chinese text with jieba, the domain user dictionary and stopwords.

    Parameters
    ----------
    userdict : path-like, optional
        jieba user dictionary (``word [freq] [tag]`` per line); None or ``False`` for none (jieba's own
        dictionary only). The file is read once, at construction. The entry points pass the bundled one.
    stopwords : path-like, optional
        One stopword per line; None or ``False`` for none.
    hmm : bool
        Let jieba's HMM join unknown words (jieba's default).
    drop_numbers : bool
        Drop pure numbers (``2024``, ``95``, ``30.5%``) and bare Chinese numerals (``一``, ``二十``).
    min_length : int
        Drop tokens shorter than this (1 keeps single characters such as 党).
    cache : compare.cache.Cache, optional
        Where segmentations are kept on disk (JSON, kind ``"tokens"``); None: in memory only (the in-memory
        cache is always on). Any other value (``True``/``False``, as older callers set it) means no disk cache.

    Attributes
    ----------
    userdict_text, stopwords_text : str
        The dictionary and stopword content the tokenizer works with (pickled with it).
    stopwords_ : frozenset of str
    dict_hash_ : str
        Hash of everything that decides the segmentation (user dictionary, HMM flag, jieba version).

    Examples
    --------
    >>> tok = JiebaTokenizer(config.USERDICT_PATH, config.STOPWORDS_PATH)  # doctest: +SKIP
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
        cache: Cache | None = None,
    ):
        self.userdict = userdict
        self.stopwords = stopwords
        self.hmm = hmm
        self.drop_numbers = drop_numbers
        self.min_length = min_length
        self.cache = cache
        self.userdict_text = read_wordlist(userdict or None)
        self.stopwords_text = read_wordlist(stopwords or None)
        self._setup()

    # -- state ---------------------------------------------------------------------------------------------
    def _setup(self) -> None:
        from importlib.metadata import version

        self.stopwords_ = frozenset(self.stopwords_text.split("\n")) - {""}
        # jieba's version from its metadata: importing jieba (0.2 s, pkg_resources) waits until a text is cut,
        # which a notebook kernel reading the build's tables never does
        self.dict_hash_ = digest("jieba", version("jieba"), f"hmm={self.hmm}", self.userdict_text)
        # in-memory caches bounded by the number of tokens they hold (an LRU of cachetools), so a corpus of
        # any size never piles its segmentations up in memory: the disk cache is the long-term store
        self._tokens: LRUCache = LRUCache(maxsize=MEMORY_CACHE_TOKENS, getsizeof=len)
        # every distinct raw token seen → its content token ("" when not kept): a vocabulary, not a corpus
        self._kept: dict[str, str] = {}
        self._pid = os.getpid()

    def __getstate__(self) -> dict:
        # the jieba instance and the caches are rebuilt on demand; only parameters and content travel
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_") and not k.endswith("_")}
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        state.pop("cache_dir", None)  # tokenizers pickled before the cache was a Cache object
        self.__dict__.update(state)
        self._setup()

    def __repr__(self) -> str:
        n_words = self.userdict_text.count("\n") + 1 if self.userdict_text else 0
        return (
            f"JiebaTokenizer({n_words} user words, {len(self.stopwords_)} stopwords, hmm={self.hmm}, "
            f"dict={self.dict_hash_[:8]})"
        )

    def _content(self) -> dict:
        """What decides the tokens: the parameters and word lists (not where the cache is)."""
        return {k: v for k, v in self.__getstate__().items() if k != "cache"}

    def __eq__(self, other) -> bool:
        return isinstance(other, JiebaTokenizer) and self._content() == other._content()

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
                _initialize(tk)
                if self.userdict_text:
                    tk.load_userdict(io.StringIO(self.userdict_text))
                _JIEBA_INSTANCES[self.dict_hash_] = tk
            return tk

    # -- segmentation --------------------------------------------------------------------------------------
    def _store(self) -> Cache | None:
        return self.cache if isinstance(self.cache, Cache) else None

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
        key = digest(self.dict_hash_, text)
        store = self._store()
        memory = _shared_segmentations(self.dict_hash_, store)
        hit = memory.get(key)
        if hit is not None:
            return hit
        tokens = store.read_json("tokens", key) if store is not None else None
        if not (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens)):  # missing or damaged
            tokens = list(self.jieba.cut(text, HMM=self.hmm))
            if store is not None:
                store.write_json("tokens", key, tokens)
        if len(tokens) <= MEMORY_CACHE_TOKENS:
            memory[key] = tokens
        return tokens

    def segment_all(self, texts: list[str]) -> list[list[str]]:
        """:meth:`segment` of several texts, kept on disk as one entry (kind ``"tokens"``, keyed by them all).

        The per-file stage stores a report's problem documents in one write, and coding reads them back in one
        read (into the memory :meth:`segment` looks in first). An entry whose tokens do not join up to their
        text is ignored.
        """
        texts = [t or "" for t in texts]
        store = self._store()
        memory = _shared_segmentations(self.dict_hash_, store)
        keys = [digest(self.dict_hash_, t) for t in texts]
        out = [memory.get(k) for k in keys]
        if all(o is not None for o in out):
            return out
        batch = digest(self.dict_hash_, "segment_all", *keys)
        entry = store.read_json("tokens", batch) if store is not None else None
        if _joins_up(entry, texts):
            out = entry
        else:
            out = [o if o is not None else list(self.jieba.cut(t, HMM=self.hmm)) for o, t in zip(out, texts, strict=True)]
            if store is not None:
                store.write_json("tokens", batch, out)
        for k, o in zip(keys, out, strict=True):
            if len(o) <= MEMORY_CACHE_TOKENS:
                memory[k] = o
        return out

    def keep(self, token: str) -> bool:
        """Whether a raw token is kept: not whitespace, punctuation, a pure number or a stopword."""
        token = token.strip()
        if len(token) < max(self.min_length, 1) or is_punct(token):
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
            hit = self._content_tokens(self.segment(text))
            if len(hit) <= MEMORY_CACHE_TOKENS:
                self._tokens[text] = hit
        return list(hit)

    __call__ = tokenize

    def _content_tokens(self, segmentation: list[str]) -> list[str]:
        """The tokens of a raw segmentation that :meth:`keep` keeps, stripped; each distinct token one string."""
        kept = self._kept
        if len(kept) > 1_000_000:  # a vocabulary this large is not a vocabulary: start over
            kept.clear()
        words = list(map(kept.get, segmentation))  # "" for a token dropped, None for one not seen yet
        if None in words:
            for k, t in enumerate(segmentation):
                if words[k] is None:
                    if t not in kept:  # a token seen twice in this segmentation is decided once
                        kept[t] = sys.intern(t.strip()) if self.keep(t) else ""
                    words[k] = kept[t]
        return list(filter(None, words))

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`tokenize` over several texts."""
        return [self.tokenize(t) for t in texts]

    def tokenize_all(self, texts: list[str]) -> list[list[str]]:
        """:meth:`tokenize` of several texts through :meth:`segment_all` (one cache entry for them all)."""
        return [self._content_tokens(seg) for seg in self.segment_all(texts)]

    def is_split(self, term: str) -> tuple[str, ...]:
        """Return jieba's segmentation of ``term`` on its own (one element when the term survives)."""
        return tuple(t for t in self.segment(term) if t.strip())


class KnownTokens:
    """A tokenizer that knows the tokens of some texts already, and asks ``tokenizer`` about any other.

    The analyses of a build read every problem's document several times (keyness, alike problems, clustering,
    the map); :func:`problem_tokens` reads the per-file stage's segmentations back once per report, and this
    hands them to each vectorizer, so none of them segments again.
    """

    def __init__(self, tokenizer, texts: list[str], tokens: list[list[str]]):
        self.tokenizer = tokenizer
        self._known = dict(zip(texts, tokens, strict=True))

    def __call__(self, text: str) -> list[str]:
        hit = self._known.get(text)
        return hit if hit is not None else self.tokenizer(text)


def problem_tokens(problems, tokenizer) -> KnownTokens:
    """The content tokens of every problem's :func:`compare.documents.problem_document`, as a :class:`KnownTokens`.

    A report's documents are read together (:meth:`JiebaTokenizer.tokenize_all`: the one cache entry the
    per-file stage wrote for them); a tokenizer without that method is asked about each document.
    """
    docs = [problem_document(t, x) for t, x in zip(problems["title"], problems["text"], strict=True)]
    if not hasattr(tokenizer, "tokenize_all"):
        return KnownTokens(tokenizer, docs, [tokenizer(d) for d in docs])
    tokens: list[list[str]] = [[] for _ in docs]
    groups = problems["report_id"].astype(str).reset_index(drop=True)
    for _, idx in groups.groupby(groups, sort=False).indices.items():
        for i, toks in zip(idx, tokenizer.tokenize_all([docs[i] for i in idx]), strict=True):
            tokens[i] = toks
    return KnownTokens(tokenizer, docs, tokens)


def _joins_up(entry, texts: list[str]) -> bool:
    """Whether ``entry`` (read from the cache) is a segmentation of each of ``texts``."""
    return (isinstance(entry, list) and len(entry) == len(texts)
            and all(isinstance(seg, list) and "".join(seg) == t for seg, t in zip(entry, texts, strict=True)))


# -- one report's segmentation, reused for its measures -----------------------------------------------------
@lru_cache(maxsize=1)
def _jieba_blocks():
    """jieba's block pattern: it segments runs of these characters and yields every other character alone."""
    import jieba

    return jieba.re_han_default


def _sub_segmentation(doc: str, seg: list[str], starts: list[int], blocks, a: int, b: int, cut) -> list[str]:
    """``cut(doc[a:b])``, taken from the segmentation ``seg`` of ``doc`` wherever that is exact.

    jieba segments the runs of :func:`_jieba_blocks` characters independently and yields every other character
    on its own, so the tokens of ``doc`` inside ``doc[a:b]`` are those of ``doc[a:b]``, except in a run that the
    span cuts in two: only such partial runs (at either end) are segmented again.
    """
    if a >= b:
        return cut(doc[a:b])
    run_starts, run_ends = blocks
    k = bisect.bisect_right(run_starts, a) - 1  # the run holding a, or the last one before it
    left = None
    if k >= 0 and run_starts[k] < a < run_ends[k]:
        if b <= run_ends[k]:
            return cut(doc[a:b])  # the span lies inside one run
        left = run_ends[k]
    j = bisect.bisect_left(run_ends, b)  # the run holding b, or the first one after it
    right = None
    if j < len(run_starts) and run_starts[j] < b < run_ends[j]:
        right = run_starts[j]
    lo = a if left is None else left
    hi = b if right is None else right
    i0, i1 = bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi)
    on_lo = i0 < len(starts) and starts[i0] == lo or lo == hi
    on_hi = i1 < len(starts) and starts[i1] == hi or hi == len(doc)
    if not (on_lo and on_hi):  # not on token boundaries (jieba's rules exclude it; stay exact anyway)
        return cut(doc[a:b])
    out = cut(doc[a:lo]) if left is not None else []
    out += seg[i0:i1]
    if right is not None:
        out += cut(doc[hi:b])
    return out


def _measure_segmentations(p: dict, measures: list[dict], tokenizer: JiebaTokenizer, seg: list[str]) -> list:
    """The segmentation of each of problem ``p``'s measures' texts, in order, from ``seg`` (its document's)."""

    def cut(s: str) -> list[str]:
        return list(tokenizer.jieba.cut(s, HMM=tokenizer.hmm))

    text = p["text"] or ""
    doc = problem_document(p["title"], text)
    head = len(doc) - len(text)
    starts, pos = [], 0
    for t in seg:
        starts.append(pos)
        pos += len(t)
    runs = [m.span() for m in _jieba_blocks().finditer(doc)]
    blocks = ([x for x, _ in runs], [y for _, y in runs])
    out_m = []
    for m in measures:
        mtext = m["text"] or ""
        at = text.find(mtext, max(0, m["start"] - p["start"])) if pos == len(doc) else -1
        if at < 0:
            out_m.append(cut(mtext))
        else:
            out_m.append(_sub_segmentation(doc, seg, starts, blocks, head + at, head + at + len(mtext), cut))
    return out_m


def segment_report(problems: list[dict], measures: list[dict], tokenizer: JiebaTokenizer) -> dict:
    """The raw segmentations of one report's problem documents and measure texts.

    Each problem's :func:`compare.documents.problem_document` is segmented once (through the tokenizer's
    caches, which it fills); a measure's tokens are taken from its problem's segmentation wherever the
    measure's span does not cut one of jieba's blocks in two, so they equal ``tokenizer.segment(text)``.

    Parameters
    ----------
    problems, measures : list of dict
        Rows of the report's problems (``problem_id``, ``title``, ``text``, ``start``) and measures
        (``problem_id``, ``text``, ``start``).
    tokenizer : JiebaTokenizer

    Returns
    -------
    dict
        ``dict_hash`` (the tokenizer's), ``problems`` and ``measures``: a list of tokens per row, in row order.
    """
    by_problem: dict[str, list[dict]] = {}
    for m in measures:
        by_problem.setdefault(m["problem_id"], []).append(m)
    # jieba, or the token cache (which it fills, one entry for the report)
    out_p = [list(s) for s in tokenizer.segment_all([problem_document(p["title"], p["text"]) for p in problems])]
    out_m: dict[int, list[str]] = {}
    for p, seg in zip(problems, out_p, strict=True):
        mine = by_problem.get(p["problem_id"], [])
        segs = _measure_segmentations(p, mine, tokenizer, seg)
        out_m.update({id(m): s for m, s in zip(mine, segs, strict=True)})
    # measures of no listed problem are segmented on their own
    measures_out = [out_m[id(m)] if id(m) in out_m else list(tokenizer.jieba.cut(m["text"] or "", HMM=tokenizer.hmm))
                    for m in measures]
    return {"dict_hash": tokenizer.dict_hash_, "problems": out_p, "measures": measures_out}
