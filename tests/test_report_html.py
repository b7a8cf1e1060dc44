"""report.html of the demo chain on the bundled fixtures (dedup, dedup --verify, mix, tokenize):
valid self-contained HTML, every figure present and decodable, numbers equal to report.json /
manifest.json (and to fixtures/expected.json), input text escaped, rebuilt byte-identically."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from slimpajama.cli import main
from slimpajama.report.build import write_report_html
from slimpajama.report.dedup_page import SLIMPAJAMA_BYTE_DUPLICATION_PERCENT, cluster_size_bins

pytestmark = pytest.mark.beam

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "rp"
EXPECTED = json.loads((ROOT / "fixtures" / "expected.json").read_text())
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base"}
SVG_NS = "{http://www.w3.org/2000/svg}"
PLANTED = "<script>alert('planted')</script>"
AXES = ("x-axis", "y-axis")

FIGURES = {
    "dedup": {"fig-dedup-outcomes", "fig-dedup-duprate", "fig-dedup-clusters", "fig-dedup-scurve"},
    "verify": {
        "fig-dedup-outcomes",
        "fig-dedup-duprate",
        "fig-dedup-clusters",
        "fig-dedup-scurve",
        "fig-dedup-jaccard",
    },
    "mix": {"fig-mix-shares", "fig-mix-repeats"},
    "tokenize": {"fig-tok-sources", "fig-tok-shards"},
}


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    """The demo chain: dedup (default and --verify --recall 0.99), mix --holdout 0.1, tokenize.
    dedup writes its report.html itself; mix and tokenize folders get theirs here."""
    root = tmp_path_factory.mktemp("chain")
    found = {name: root / name for name in FIGURES}
    cli("dedup", "--input", str(FIXTURES), "--output", str(found["dedup"]))
    cli(
        "dedup",
        "--input",
        str(FIXTURES),
        "--output",
        str(found["verify"]),
        "--verify",
        "--recall",
        "0.99",
    )
    cli(
        "mix",
        "--input",
        str(found["dedup"]),
        "--mixture",
        "slimpajama-627b",
        "--output",
        str(found["mix"]),
        "--holdout",
        "0.1",
    )
    cli("tokenize", "--input", str(found["mix"]), "--output", str(found["tokenize"]))
    for name in ("mix", "tokenize"):
        write_report_html(str(found[name]))
    return found


def html_of(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


class Page(HTMLParser):
    """Parses a page: checks that every element is closed in order, collects element ids with their
    text, figure ids and figure captions."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text_by_id: dict[str, str] = {}
        self.open_ids: list[tuple[int, str]] = []
        self.figures: list[str] = []
        self.captions: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)
        attributes = dict(attrs)
        if tag == "figure":
            self.figures.append(attributes["id"])
        if tag in VOID:
            return
        self.stack.append(tag)
        if "id" in attributes and tag in ("td", "th", "figcaption", "p"):
            self.open_ids.append((len(self.stack), attributes["id"]))
            self.text_by_id[attributes["id"]] = ""
        if tag == "figcaption":
            self.open_ids.append((len(self.stack), "caption"))
            self.captions.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.open_ids = [(depth, i) for depth, i in self.open_ids if depth < len(self.stack)]
        self.stack.pop()

    def handle_data(self, data):
        for _, element in self.open_ids:
            if element == "caption":
                self.captions[-1] += data
            else:
                self.text_by_id[element] += data


@pytest.mark.parametrize("name", list(FIGURES))
def test_page_parses_with_balanced_tags_and_loads_nothing(outputs, name):
    text = html_of(outputs[name])
    page = Page(text)
    assert page.errors == []
    assert text.startswith("<!DOCTYPE html>\n")
    assert {"html", "head", "body", "table", "figure", "svg"} <= page.tags
    assert not page.tags & {
        "script",
        "link",
        "img",
        "iframe",
        "object",
    }  # self-contained, no JavaScript
    refs = [v for k, v in page.attributes if k in ("href", "xlink:href", "src")]
    assert refs and all(v.startswith("#") for v in refs)
    ids = [v for k, v in page.attributes if k == "id"]
    assert len(ids) == len(set(ids))  # figures inlined together share no element id
    targets = {v[1:] for v in refs} | set(re.findall(r"url\(#([^)]+)\)", text))
    assert targets <= set(ids)


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_named_figure_is_there_with_a_caption_and_a_parsable_svg(outputs, name):
    text = html_of(outputs[name])
    page = Page(text)
    assert set(page.figures) == FIGURES[name]
    assert len(page.figures) == len(set(page.figures)) == len(page.captions)
    assert all(caption.strip() for caption in page.captions)
    figures = re.findall(
        r'<figure id="([^"]+)"><figcaption>[^<]*</figcaption>(<svg.*?</svg>)</figure>', text, re.S
    )
    assert [figure_id for figure_id, _ in figures] == page.figures
    for figure_id, svg in figures:
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG_NS}svg" and root.get("id") == f"{figure_id}-svg"
        marks = root.findall(f".//{SVG_NS}rect/{SVG_NS}title") + root.findall(
            f".//{SVG_NS}polyline"
        )
        axes = [len(root.findall(f".//{SVG_NS}g[@class='{a}']/{SVG_NS}line")) for a in AXES]
        assert marks and min(axes) >= 3, (figure_id, axes)  # bars or curves; spine and 2+ ticks
        assert len(root.findall(f".//{SVG_NS}text")) >= 6


def bar_titles(text: str, figure_id: str) -> list[str]:
    """The tooltips of the bars of figure `figure_id` in a page, in drawing order."""
    svg = re.search(rf'<figure id="{figure_id}">.*?(<svg.*?</svg>)', text, re.S).group(1)
    bars = ET.fromstring(svg).findall(f".//{SVG_NS}g[@class='bars']/{SVG_NS}rect/{SVG_NS}title")
    return [bar.text for bar in bars]


def test_figures_draw_the_numbers_of_report_json(outputs):
    report = json.loads((outputs["dedup"] / "report.json").read_text())
    text = html_of(outputs["dedup"])
    labels, counts = cluster_size_bins(
        {int(size): n for size, n in report["clusters"]["cluster_sizes"].items()}
    )
    assert bar_titles(text, "fig-dedup-clusters") == [
        f"{label}: {n:,}" for label, n in zip(labels, counts, strict=True) if n > 0
    ]
    sources = [s for s in report["sources"] if s != "total"]
    ours = [
        f"{s}, this run: {report['sources'][s]['byte_duplication_rate'] * 100:,.4g}"
        for s in sources
    ]
    assert bar_titles(text, "fig-dedup-duprate")[: len(sources)] == ours
    outcomes = bar_titles(text, "fig-dedup-outcomes")
    assert len(outcomes) == 2 * 4 * len(sources)  # documents and bytes panels, 4 outcomes
    row = report["sources"]["RedPajamaCommonCrawl"]
    kept = f"RedPajamaCommonCrawl, kept: {row['kept']:,} documents"
    assert f"{kept} ({row['kept'] * 100 / row['docs_in']:.2f} %)" in outcomes

    mix = json.loads((outputs["mix"] / "report.json").read_text())
    shares = bar_titles(html_of(outputs["mix"]), "fig-mix-shares")
    names = [s for s in mix["sources"] if s != "total"]
    assert shares[: len(names)] == [
        f"{n}, target: {mix['sources'][n]['target_share']:,.4g}" for n in names
    ]

    manifest = json.loads((outputs["tokenize"] / "manifest.json").read_text())
    shards = [
        f"{shard['name']} ({split}): {shard['tokens']:,}"
        for split, entry in manifest["splits"].items()
        for shard in entry["shards"]
    ]
    assert sorted(bar_titles(html_of(outputs["tokenize"]), "fig-tok-shards")) == sorted(shards)


def test_dedup_numbers_equal_report_json_and_expected_counts(outputs):
    for name in ("dedup", "verify"):
        report = json.loads((outputs[name] / "report.json").read_text())
        cells = Page(html_of(outputs[name])).text_by_id
        expected = EXPECTED["global"]["per_source"]
        for source, row in report["sources"].items():
            for key in (
                "docs_in",
                "kept",
                "short",
                "duplicate",
                "quarantined",
                "bytes_in",
                "kept_bytes",
                "short_bytes",
                "duplicate_bytes",
                "quarantined_bytes",
            ):
                assert cells[f"dedup-{source}-{key}"] == f"{row[key]:,}"
            assert cells[f"duprate-{source}-ours"] == f"{row['byte_duplication_rate'] * 100:.2f} %"
            if source in expected:
                assert cells[f"dedup-{source}-docs_in"] == str(expected[source]["input"])
                for key in ("kept", "short", "duplicate", "quarantined"):
                    assert cells[f"dedup-{source}-{key}"] == str(expected[source][key])
                assert (
                    cells[f"duprate-{source}-slimpajama"]
                    == f"{SLIMPAJAMA_BYTE_DUPLICATION_PERCENT[source]:.2f} %"
                )
        assert cells["dedup-RedPajamaCommonCrawl-kept"] == "25"
        assert cells["duprate-RedPajamaCommonCrawl-slimpajama"] == "63.76 %"
        for size, count in report["clusters"]["cluster_sizes"].items():
            assert cells[f"clusters-{size}"] == f"{count:,}"
        for j, p in report["lsh"]["candidate_probability"].items():
            assert cells[f"scurve-{j.replace('.', '_')}"] == f"{p:.4f}"
        for kind, count in report["issues"]["by_kind"].items():
            assert cells[f"issues-kind-{kind}"] == f"{count:,}"
    verify = json.loads((outputs["verify"] / "report.json").read_text())["verification"]
    cells = Page(html_of(outputs["verify"])).text_by_id
    assert [cells[f"verify-{k}"] for k in ("candidates", "verified", "rejected")] == [
        f"{verify[k]:,}" for k in ("candidates", "verified", "rejected")
    ]
    assert "verify-candidates" not in Page(html_of(outputs["dedup"])).text_by_id


def test_jaccard_histogram_counts_every_verified_edge(outputs):
    import pyarrow.parquet as pq

    from slimpajama.report.dedup_page import jaccard_histogram

    values = pq.read_table(outputs["verify"] / "edges").column("jaccard").to_pylist()
    edges, counts, below, missing = jaccard_histogram(
        str(outputs["verify"] / "edges"), 0.75
    )
    assert (int(counts.sum()), below, missing) == (len(values), 0, 0)
    assert len(counts) == 25 and edges[0] == 0.75 and edges[-1] == 1.0
    assert int(counts[-1]) == sum(v >= 0.99 for v in values)


def test_mix_numbers_equal_report_json(outputs):
    report = json.loads((outputs["mix"] / "report.json").read_text())
    cells = Page(html_of(outputs["mix"])).text_by_id
    for source, row in report["sources"].items():
        assert cells[f"mix-{source}-target"] == f"{row['target_share']:.3f} %"
        assert cells[f"mix-{source}-mix"] == f"{row['mix']['token_share']:.3f} %"
        assert cells[f"mix-{source}-train"] == f"{row['train']['token_share']:.3f} %"
        assert cells[f"mix-{source}-weight"] == f"{row['weight']:.4f}"
        assert cells[f"mix-{source}-docs"] == f"{row['mix']['docs']:,}"
        for copies, docs in row["repeat_histogram"].items():
            assert cells[f"repeats-{source}-{copies}"] == f"{docs:,}"
        for kind in ("exact", "near"):
            assert (
                cells[f"decontam-{source}-{kind}-docs"]
                == f"{row['decontamination'][kind]['docs']:,}"
            )
    assert cells["mix-RedPajamaCommonCrawl-target"] == "52.200 %"
    for split in ("train", "validation", "test"):
        assert cells[f"split-{split}-docs"] == f"{report['totals'][split]['docs']:,}"


def test_tokenize_numbers_equal_manifest_json(outputs):
    manifest = json.loads((outputs["tokenize"] / "manifest.json").read_text())
    cells = Page(html_of(outputs["tokenize"])).text_by_id
    for split, entry in manifest["splits"].items():
        assert cells[f"tok-{split}-tokens"] == f"{entry['tokens']:,}"
        assert cells[f"tok-{split}-documents"] == f"{entry['documents']:,}"
        assert cells[f"tok-{split}-shards"] == str(len(entry["shards"]))
        for source, counts in entry["sources"].items():
            assert cells[f"tok-{split}-{source}-tokens"] == f"{counts['tokens']:,}"
        for shard in entry["shards"]:
            assert (
                cells[f"shard-{shard['name'].replace('/', '_')}-tokens"] == f"{shard['tokens']:,}"
            )
    assert sum(e["documents"] for e in manifest["splits"].values()) == 100


def test_hdf5_shards_are_reported_by_sequences(outputs, tmp_path):
    pytest.importorskip("h5py")
    out = tmp_path / "tok-h5"
    cli(
        "tokenize",
        "--input",
        str(outputs["mix"]),
        "--output",
        str(out),
        "--format",
        "hdf5",
        "--seq-len",
        "256",
    )
    write_report_html(str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    page = Page(html_of(out))
    assert page.errors == [] and set(page.figures) == FIGURES["tokenize"]
    train = manifest["splits"]["train"]
    assert page.text_by_id["tok-train-sequences"] == f"{train['sequences']:,}"
    assert train["sequences"] == train["tokens"] // 256 > 0
    shard = train["shards"][0]
    assert page.text_by_id[f"shard-{shard['name'].replace('/', '_').replace('.', '_')}-tokens"] == (
        f"{shard['tokens']:,}"
    )


def test_text_from_the_input_is_escaped(tmp_path):
    corpus = tmp_path / "rp" / "wikipedia"
    corpus.mkdir(parents=True)
    text = "A wiki article about escaping markup in reports. " * 6
    lines = [
        json.dumps({"text": text, "meta": {"redpajama_set_name": PLANTED}}),
        PLANTED,  # not JSON: quarantined, shown as raw input
        json.dumps(
            {"text": text + " second", "meta": {"redpajama_set_name": "RedPajamaWikipedia"}}
        ),
    ]
    (corpus / "wiki.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "sp"
    cli("dedup", "--input", str(tmp_path / "rp"), "--output", str(out))
    text = html_of(out)
    assert PLANTED not in text and "<script" not in text
    assert (
        text.count("&lt;script&gt;alert(&#x27;planted&#x27;)&lt;/script&gt;") >= 3
    )  # reason (x2) + raw
    page = Page(text)
    assert page.errors == [] and "script" not in page.tags
    cells = page.text_by_id
    assert cells["dedup-RedPajamaWikipedia-quarantined"] == "1"
    assert cells["issues-kind-warning"] == "1"


def test_report_command_rebuilds_identical_bytes(outputs):
    """dedup wrote its pages itself, the fixture wrote the others; `slimpajama report` rebuilds each
    byte-identically, in this process and (verify, the page with most figures) in a fresh one."""
    for name, folder in outputs.items():
        before = (folder / "report.html").read_bytes()
        (folder / "report.html").unlink()
        if name == "verify":  # a fresh process: new hash seed
            done = subprocess.run(
                [sys.executable, "-m", "slimpajama.cli", "report", str(folder)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            assert done.stdout == f"wrote {folder / 'report.html'}\n"
        else:
            assert cli("report", str(folder)) == f"wrote {folder / 'report.html'}\n"
        assert (folder / "report.html").read_bytes() == before, name


def test_report_command_does_not_load_beam(outputs):
    """`slimpajama report` imports only its own command (the CLI group loads commands lazily)."""
    script = ("import sys\nfrom slimpajama.cli import main\n"
              "try:\n    main(['report', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'apache_beam'))\n")
    done = subprocess.run([sys.executable, "-c", script, str(outputs["mix"])], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [f"wrote {outputs['mix'] / 'report.html'}", "[]"]


def test_report_command_refuses_a_folder_without_a_report(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no report.json" in result.output
    assert not (tmp_path / "report.html").exists()


def test_cluster_sizes_get_power_of_two_bins_beyond_thirty_sizes():
    few = {2: 5, 3: 1, 40: 2}
    assert cluster_size_bins(few) == (["2", "3", "40"], [5, 1, 2])
    many = {size: 1 for size in range(2, 40)}
    assert cluster_size_bins(many) == (["2–3", "4–7", "8–15", "16–31", "32–63"], [2, 4, 8, 16, 8])


def test_cli_help_lists_commands_with_their_own_help_without_importing_them():
    from slimpajama.cli import COMMANDS, load_command, short_help

    for name in COMMANDS:
        for limit in (30, 45, 74, 10_000):
            assert short_help(name, limit) == load_command(name).get_short_help_str(limit), name
    script = ("import sys\nfrom slimpajama.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('slimpajama.') and m.count('.') == 2 and "
              "m.endswith('.cli')) + sorted(m for m in sys.modules if m == 'apache_beam'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[-1] == "[]"
    assert [line.split()[0] for line in lines[lines.index("Commands:") + 1:-1]] == sorted(COMMANDS)
    assert "  mix          Reweight sources to a mixture, split off validation/test,..." in lines
