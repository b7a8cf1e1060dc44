"""`write_report_html`: detect which command wrote an output folder and write its report.html."""

from __future__ import annotations

from typing import Any

from slimpajama.report import folder

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
MANIFEST_JSON = "manifest.json"


class NotAnOutputFolder(ValueError):
    """The folder holds neither a dedup/mix report.json nor a tokenize manifest.json."""


def detect_kind(output_dir: str) -> tuple[str, dict[str, Any]]:
    """("dedup" | "mix" | "tokenize", the parsed report.json or manifest.json) of an output folder."""
    report_path = folder.join(output_dir, REPORT_JSON)
    if folder.exists(report_path):
        report = folder.read_json(report_path)
        if report.get("command") in ("dedup", "mix"):
            return report["command"], report
        if "mixture" in report:
            return "mix", report
        raise NotAnOutputFolder(f"{report_path} was not written by slimpajama dedup or mix")
    manifest_path = folder.join(output_dir, MANIFEST_JSON)
    if folder.exists(manifest_path):
        manifest = folder.read_json(manifest_path)
        if "tokenizer" in manifest and "splits" in manifest:
            return "tokenize", manifest
        raise NotAnOutputFolder(f"{manifest_path} was not written by slimpajama tokenize")
    raise NotAnOutputFolder(
        f"{output_dir} holds no report.json (dedup, mix) nor manifest.json (tokenize)"
    )


def report_html(output_dir: str) -> str:
    """The report page of an output folder, as HTML text."""
    kind, content = detect_kind(output_dir)
    if kind == "dedup":
        from slimpajama.report.dedup_page import dedup_page

        page = dedup_page(content, output_dir)
    elif kind == "mix":
        from slimpajama.report.mix_page import mix_page

        page = mix_page(content)
    else:
        from slimpajama.report.tokenize_page import tokenize_page

        page = tokenize_page(content, output_dir)
    return page.render()


def write_report_html(output_dir: str) -> str:
    """Write `output_dir/report.html` from what the folder holds; returns its path.

    The same report.json / manifest.json (and audit files) give byte-identical HTML."""
    path = folder.join(output_dir, REPORT_HTML)
    folder.write_bytes(path, report_html(output_dir).encode("utf-8"))
    return path
