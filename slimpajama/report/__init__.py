"""report.html: a self-contained HTML page (inline SVG figures, no JavaScript) for the output
folder of `slimpajama dedup`, `mix` or `tokenize`; the figures are drawn by a small SVG writer
(`slimpajama.report.svg`), no plotting library."""

from slimpajama.report.build import NotAnOutputFolder, write_report_html

__all__ = ["NotAnOutputFolder", "write_report_html"]
