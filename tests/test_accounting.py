from slimpajama.core.accounting import (
    COUNTERS,
    accounting_errors,
    merge_counts,
    source_table,
    tally,
)


def test_tally_merge_and_identity():
    a, b = {}, {}
    tally(a, "RedPajamaC4", "short", 50, is_input=True)
    tally(a, "RedPajamaC4", None, 1000, is_input=True)
    tally(b, "RedPajamaC4", "duplicate", 1000, is_input=False)
    tally(b, "RedPajamaArXiv", "quarantined", 7, is_input=True)
    merged = merge_counts([a, b])
    assert list(merged) == ["RedPajamaArXiv", "RedPajamaC4"]
    assert set(merged["RedPajamaC4"]) == set(COUNTERS)
    assert merged["RedPajamaC4"]["docs_in"] == 2 and merged["RedPajamaC4"]["bytes_in"] == 1050
    assert accounting_errors(merged) == []
    table = source_table(merged)
    assert table["RedPajamaC4"]["byte_duplication_rate"] == round(1000 / 1050, 6)
    assert table["total"]["docs_in"] == 3 and table["total"]["quarantined_bytes"] == 7


def test_violation_is_reported_exactly():
    counts = {}
    tally(counts, "RedPajamaBook", None, 10, is_input=True)
    assert accounting_errors(counts) == [
        "RedPajamaBook: docs in 1 != kept 0 + short 0 + duplicate 0 + quarantined 0 = 0",
        "RedPajamaBook: bytes in 10 != kept 0 + short 0 + duplicate 0 + quarantined 0 = 0",
    ]


def test_tally_of_several_documents_at_once_equals_one_by_one():
    one_by_one, at_once = {}, {}
    for nbytes in (10, 20, 30):
        tally(one_by_one, "RedPajamaC4", "duplicate", nbytes, is_input=False)
    tally(at_once, "RedPajamaC4", "duplicate", 60, is_input=False, docs=3)
    assert at_once == one_by_one and at_once["RedPajamaC4"]["duplicate"] == 3
