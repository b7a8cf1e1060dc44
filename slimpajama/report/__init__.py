"""report.html: a self-contained HTML page (inline SVG figures, no JavaScript) for the output
folder of `slimpajama dedup`, `mix` or `tokenize`. matplotlib is imported only when a page is built."""

from slimpajama.report.build import NotAnOutputFolder, write_report_html

__all__ = ["NotAnOutputFolder", "write_report_html"]
