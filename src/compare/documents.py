"""TEMPORARY (merge window): the text a problem is read by."""

from __future__ import annotations


def problem_document(title: str | None, text: str | None) -> str:
    """The text a problem is classified and clustered by: its title, a newline, its full text."""
    return (title or "").replace("\n", " ") + "\n" + (text or "")
