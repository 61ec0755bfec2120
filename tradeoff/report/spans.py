"""Rich text as plain data: a sentence or a table cell of the report is a `Line`, a tuple of `Span`s
(a piece of text and how it is shown), never HTML. The templates escape every span's text, so a
name, a currency or a SKU id from the scenario is always shown as text; only the style names,
chosen by the engine from `Style`, ever become markup (<b>, <code>, <span class=...>)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a span is shown: "" plain, "b" bold, "code" monospace, the others a CSS class of style.css.j2.
Style = Literal["", "b", "code", "ci", "muted", "good", "bad"]


@dataclass(frozen=True)
class Span:
    """A piece of text (plain, escaped by the template) and its style."""

    text: str
    style: Style = ""


@dataclass(frozen=True)
class Line:
    """A run of spans shown inline, in order (a sentence, a list item, a table cell)."""

    spans: tuple[Span, ...] = ()

    @property
    def text(self) -> str:
        """What a reader sees, without styles."""
        return "".join(s.text for s in self.spans)

    def __bool__(self) -> bool:
        return any(s.text for s in self.spans)


def line(*parts: str | Span | Line) -> Line:
    """A Line from plain strings, spans and other lines (flattened; adjacent plain text merged)."""
    out: list[Span] = []
    for p in parts:
        for s in p.spans if isinstance(p, Line) else (p if isinstance(p, Span) else Span(str(p)),):
            if not s.text:
                continue
            if out and out[-1].style == s.style:  # one span per run of the same style
                out[-1] = Span(out[-1].text + s.text, s.style)
            else:
                out.append(s)
    return Line(tuple(out))


def b(text: object) -> Span:
    """Bold text."""
    return Span(str(text), "b")


def code(text: object) -> Span:
    """A code name (a YAML path, a rule) in monospace."""
    return Span(str(text), "code")


def styled(text: object, style: Style) -> Span:
    """Text in one of the page's text styles (ci, muted, good, bad)."""
    return Span(str(text), style)
