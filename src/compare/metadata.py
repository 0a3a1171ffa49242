"""TEMPORARY (merge window): metadata still comes from parse."""

from __future__ import annotations


def read_metadata(text, parsed):
    return dict(parsed.meta), []
