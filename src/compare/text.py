"""Deprecated (one release): the tokenizer moved to :mod:`compare.tokens` (and ``vocab_check`` to :mod:`compare.vocab`).

Kept so that models pickled before the move (they name ``compare.text.JiebaTokenizer``) still load.
"""

from .tokens import JiebaTokenizer, default_tokenizer, read_wordlist  # noqa: F401
