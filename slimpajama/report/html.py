"""Assembling a self-contained HTML page: sections, tables and inline SVG figures, no JavaScript.

Every piece of text that comes from a report, a manifest or an input file goes through
`html.escape`; only the SVG strings made by `slimpajama.report.figures` (which escapes its own
text) and the markup built here are inserted as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:72em;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#fafafa}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{font-weight:bold;margin-bottom:.3em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
pre{white-space:pre-wrap;word-break:break-all;margin:0;max-width:40em}
p.note{color:#555;font-size:.9em}nav ul{columns:2;font-size:.9em}
"""


def element_id(*parts: str) -> str:
    """A stable element id from `parts` (characters other than letters, digits, '_' and '-'
    become '_'), e.g. element_id("dedup", "RedPajamaC4", "kept") = "dedup-RedPajamaC4-kept"."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in parts)


@dataclass(frozen=True)
class Cell:
    """A table cell: its text (escaped on output), an optional element id, right-aligned if numeric."""

    text: str
    id: str | None = None
    numeric: bool = False
    preformatted: bool = False

    def render(self, tag: str = "td") -> str:
        attributes = f' id="{escape(self.id)}"' if self.id else ""
        if self.numeric:
            attributes += ' class="num"'
        body = f"<pre>{escape(self.text)}</pre>" if self.preformatted else escape(self.text)
        return f"<{tag}{attributes}>{body}</{tag}>"


def cell(value: object, cell_id: str | None = None) -> Cell:
    """A cell for a Python value: ints with thousands separators, None as an en dash, the rest as str."""
    if isinstance(value, bool) or value is None:
        return Cell("–" if value is None else str(value).lower(), cell_id)
    if isinstance(value, int):
        return Cell(f"{value:,}", cell_id, numeric=True)
    if isinstance(value, float):
        return Cell(f"{value:g}", cell_id, numeric=True)
    return Cell(str(value), cell_id)


def percent(value: float | None, cell_id: str | None = None, digits: int = 2) -> Cell:
    """A cell for a value already in percent: `12.35 %` (or an en dash for None)."""
    if value is None:
        return Cell("–", cell_id, numeric=True)
    return Cell(f"{value:.{digits}f} %", cell_id, numeric=True)


def table(
    table_id: str, header: list[str], rows: list[list[Cell]], total_row: list[Cell] | None = None
) -> str:
    """A <table> with an escaped header row, body rows and an optional bold total row."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(c.render() for c in row) + "</tr>" for row in rows)
    if total_row is not None:
        body += '<tr class="total">' + "".join(c.render() for c in total_row) + "</tr>"
    return f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_value_table(table_id: str, items: dict[str, object]) -> str:
    """A two-column table of names and values."""
    return table(table_id, ["name", "value"], [[Cell(str(k)), cell(v)] for k, v in items.items()])


def figure(figure_id: str, title: str, svg: str) -> str:
    """A <figure> holding an inline SVG made by `slimpajama.report.figures`, titled by a caption."""
    return (
        f'<figure id="{escape(figure_id)}"><figcaption>{escape(title)}</figcaption>{svg}</figure>'
    )


def paragraph(text: str, css_class: str = "note") -> str:
    return f'<p class="{css_class}">{escape(text)}</p>'


@dataclass
class Page:
    """An HTML page of titled sections, rendered by `render()` into one self-contained document."""

    title: str
    subtitle: str
    sections: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def section(self, section_id: str, heading: str, *parts: str) -> None:
        """Append a section; `parts` are HTML fragments made by this module's functions."""
        self.sections.append((section_id, heading, list(parts)))

    def render(self) -> str:
        toc = "".join(
            f'<li><a href="#{escape(sid)}">{escape(heading)}</a></li>'
            for sid, heading, _ in self.sections
        )
        body = "".join(
            f'<section id="{escape(sid)}"><h2>{escape(heading)}</h2>{"".join(parts)}</section>\n'
            for sid, heading, parts in self.sections
        )
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(self.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(self.title)}</h1>\n{paragraph(self.subtitle)}\n"
            f"<nav><ul>{toc}</ul></nav>\n{body}</body>\n</html>\n"
        )
