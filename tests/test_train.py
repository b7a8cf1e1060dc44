"""The trainer hook (TokenStream, BTLM schedule) and the tiny BTLM train-smoke."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from slimpajama.io.release import encode_record, release_relpath, write_release_file
from slimpajama.io.shards import read_megatron_shard
from slimpajama.tokenize.config import TokenizeOptions
from slimpajama.tokenize.run import run_tokenize
from slimpajama.train.stream import (
    BTLM_SCHEDULE_PATH,
    Phase,
    TokenStream,
    load_schedule,
    phase_streams,
    token_span,
)

SEQ = 16
BATCH = 8
VOCAB = (
    "alpha beta gamma delta river stone light water north south quick slow red blue green "
    "tree house road city field"
).split()


def make_texts(rng: random.Random, count: int) -> list[str]:
    """Sentences from a small Zipf-like vocabulary: easy for a tiny model to learn."""
    weights = [1.0 / (i + 1) for i in range(len(VOCAB))]
    return [
        ". ".join(
            " ".join(rng.choices(VOCAB, weights, k=rng.randint(4, 9)))
            for _ in range(rng.randint(2, 8))
        )
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tokenized folder: 3 train files (~30k tokens, several shards), 1 validation file."""
    root = tmp_path_factory.mktemp("sp")
    rng = random.Random(3)
    for split, n, count in [
        ("train", 0, 200),
        ("train", 1, 200),
        ("train", 2, 200),
        ("validation", 0, 60),
    ]:
        path = str(root / release_relpath(split, 1, n))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_release_file(path, [encode_record(t, "RedPajamaC4") for t in make_texts(rng, count)])
    out = str(tmp_path_factory.mktemp("tok") / "tok")
    run_tokenize(str(root), out, TokenizeOptions(shard_tokens=5000))
    return out


def full_stream(tok: str, split: str = "train") -> np.ndarray:
    """The split's token stream rebuilt document by document from the shards."""
    manifest = json.load(open(os.path.join(tok, "manifest.json")))
    docs = []
    for shard in manifest["splits"][split]["shards"]:
        data = read_megatron_shard(os.path.join(tok, shard["name"]))
        docs.extend(data.document(i) for i in range(len(data.sizes)))
    return np.concatenate(docs).astype(np.int64)


def test_batches_are_windows_of_the_stream(tok) -> None:
    stream = full_stream(tok)
    ts = TokenStream(tok, SEQ, BATCH, seed=1)
    assert len(json.load(open(os.path.join(tok, "manifest.json")))["splits"]["train"]["shards"]) > 3
    assert ts.num_samples == (len(stream) - 1) // SEQ and ts.num_steps == ts.num_samples // BATCH
    # every window of SEQ + 1 tokens starting at a multiple of SEQ -> its start(s)
    windows: dict[bytes, list[int]] = {}
    for start in range(0, ts.num_samples * SEQ, SEQ):
        windows.setdefault(stream[start : start + SEQ + 1].tobytes(), []).append(start)
    starts = []
    for batch in ts:
        assert batch["input_ids"].shape == batch["labels"].shape == (BATCH, SEQ)
        assert batch["input_ids"].dtype == np.int64 and batch["loss_mask"].dtype == np.float32
        assert (batch["loss_mask"] == 1).all()
        for inputs, labels in zip(batch["input_ids"], batch["labels"], strict=True):
            assert np.array_equal(inputs[1:], labels[:-1])
            window = np.concatenate([inputs, labels[-1:]]).tobytes()
            starts.append(windows[window].pop(0))  # KeyError if not a window of the stream
    assert ts.step == ts.num_steps
    assert len(set(starts)) == len(starts) == ts.num_steps * BATCH  # one pass, no repeats


def test_deterministic_and_seeded(tok) -> None:
    first = [b["input_ids"] for b in TokenStream(tok, SEQ, BATCH, seed=5)]
    again = [b["input_ids"] for b in TokenStream(tok, SEQ, BATCH, seed=5)]
    other = [b["input_ids"] for b in TokenStream(tok, SEQ, BATCH, seed=6)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    order = TokenStream(tok, SEQ, BATCH, seed=5).sample_order()
    assert np.array_equal(order, np.random.Generator(np.random.PCG64(5)).permutation(len(order)))


def test_resume_is_exact(tok) -> None:
    reference = [b["input_ids"] for b in TokenStream(tok, SEQ, BATCH, seed=2)]
    stream = TokenStream(tok, SEQ, BATCH, seed=2)
    consumed = [b["input_ids"] for _, b in zip(range(7), stream, strict=False)]
    state = json.loads(json.dumps(stream.state_dict()))
    assert state["step"] == 7
    resumed = TokenStream(tok, SEQ, BATCH, seed=2)
    resumed.load_state_dict(state)
    merged = consumed + [b["input_ids"] for b in resumed]
    assert len(merged) == len(reference) == stream.num_steps
    assert all(np.array_equal(a, b) for a, b in zip(merged, reference, strict=True))
    # the state is global: rank 1 of 2 resumes on the second half of the same batches
    half = TokenStream(tok, SEQ, BATCH, seed=2, rank=1, world_size=2)
    half.load_state_dict(state)
    rest = [b["input_ids"] for b in half]
    assert all(np.array_equal(a, b[BATCH // 2 :]) for a, b in zip(rest, reference[7:], strict=True))


def test_refuses_foreign_state(tok, tmp_path) -> None:
    state = TokenStream(tok, SEQ, BATCH, seed=2).state_dict()
    for stream in (
        TokenStream(tok, SEQ * 2, BATCH, seed=2),
        TokenStream(tok, SEQ, BATCH * 2, seed=2),
        TokenStream(tok, SEQ, BATCH, seed=3),
        TokenStream(tok, SEQ, BATCH, seed=2, token_range=(0, 0.5)),
    ):
        with pytest.raises(ValueError, match="does not belong"):
            stream.load_state_dict(state)
    other = tmp_path / "other"
    shutil.copytree(tok, other)
    with open(other / "manifest.json", "a") as handle:
        handle.write("\n")
    with pytest.raises(ValueError, match="manifest_sha256"):
        TokenStream(other, SEQ, BATCH, seed=2).load_state_dict(state)
    with pytest.raises(ValueError, match="step"):
        TokenStream(tok, SEQ, BATCH, seed=2).load_state_dict({**state, "step": 10**9})


def test_rank_slices_concatenate_to_one_rank_batch(tok) -> None:
    single = list(TokenStream(tok, SEQ, BATCH, seed=4))
    for world in (2, 4):
        ranks = [
            list(TokenStream(tok, SEQ, BATCH, rank=r, world_size=world, seed=4))
            for r in range(world)
        ]
        for step, batch in enumerate(single):
            for key in ("input_ids", "labels", "loss_mask"):
                joined = np.concatenate([ranks[r][step][key] for r in range(world)])
                assert np.array_equal(joined, batch[key])
    with pytest.raises(ValueError, match="rank"):
        TokenStream(tok, SEQ, BATCH, rank=0, world_size=3)


def test_dataloader_workers_same_order_and_resume(tok) -> None:
    pytest.importorskip("torch")
    expected = [b["input_ids"] for b in TokenStream(tok, SEQ, BATCH, seed=9)][:9]
    for workers in (0, 1, 2):
        stream = TokenStream(tok, SEQ, BATCH, seed=9)
        got = [
            b["input_ids"].numpy()
            for _, b in zip(range(5), stream.torch_batches(workers), strict=False)
        ]
        assert stream.state_dict()["step"] == 5
        resumed = TokenStream(tok, SEQ, BATCH, seed=9)
        resumed.load_state_dict(stream.state_dict())
        got += [
            b["input_ids"].numpy()
            for _, b in zip(range(4), resumed.torch_batches(workers), strict=False)
        ]
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True)), workers


def test_btlm_schedule_data() -> None:
    phases, schedule = load_schedule()
    assert phases == [
        Phase("seq2048", 2048, 1920, (0.0, 0.75)),
        Phase("seq8192", 8192, 480, (0.75, 1.0)),
    ]
    assert {p.seq_len * p.global_batch for p in phases} == {3_932_160}
    model = schedule["model"]
    assert (model["n_layers"], model["d_model"], model["n_heads"], model["d_ffn"]) == (
        32,
        2560,
        32,
        6826,
    )
    assert model["mup"]["embeddings_scale"] == 14.6 and model["mup"]["output_logits_scale"] == 0.222
    total = 470_800_000_000 + 156_900_000_000  # one SlimPajama epoch as BTLM counted it
    spans = [token_span(total, p.token_range) for p in phases]
    assert spans == [(0, 470_775_000_000), (470_775_000_000, total)]
    assert abs(spans[0][1] - 470.8e9) / 470.8e9 < 1e-4


def test_schedule_must_tile(tmp_path) -> None:
    schedule = json.load(open(BTLM_SCHEDULE_PATH))
    schedule["phases"][1]["token_range"] = [0.7, 1.0]
    (tmp_path / "bad.json").write_text(json.dumps(schedule))
    with pytest.raises(ValueError, match="tile"):
        load_schedule(str(tmp_path / "bad.json"))


def test_phases_read_disjoint_tokens(tok) -> None:
    phases = [Phase("short", 16, 8, (0.0, 0.75)), Phase("long", 64, 2, (0.75, 1.0))]
    streams = phase_streams(tok, phases, seed=0)
    total = len(full_stream(tok))
    assert [(s.start, s.stop) for s in streams] == [(0, total * 3 // 4), (total * 3 // 4, total)]
    read = np.zeros(total, dtype=np.int64)
    for stream in streams:
        for step in range(stream.num_steps):
            first = step * stream.global_batch
            for sample in stream.sample_order()[first : first + stream.global_batch]:
                lo, hi = stream.sample_span(int(sample))
                assert stream.start <= lo < hi <= stream.stop
                read[lo : hi - 1] += 1  # positions read as inputs
    assert read.max() == 1
    assert read[: streams[0].stop].sum() > 0.9 * streams[0].stop


def test_train_imports_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; import slimpajama.train.stream as t; "
        "print(t.load_schedule()[0][0].seq_len)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "2048"


def test_tiny_btlm_architecture() -> None:
    torch = pytest.importorskip("torch")
    from slimpajama.train.btlm import BTLM, BTLMConfig, alibi_causal_bias, tiny_config

    bias = alibi_causal_bias(2, 3)
    assert bias[0].tolist() == [
        [0.0, float("-inf"), float("-inf")],
        [-0.0625, 0.0, float("-inf")],
        [-0.125, -0.0625, 0.0],
    ]
    assert bias[1, 2, 0].item() == -2 * 2.0**-8
    config = tiny_config()
    assert (config.embeddings_scale, config.output_logits_scale, config.width_scale) == (
        14.6,
        0.222,
        0.1,
    )
    assert (config.d_model, config.d_ffn, config.vocab_size) == (64, 171, 50257)
    full = BTLMConfig.from_schedule()
    assert (full.d_model, full.n_layers, full.d_ffn) == (2560, 32, 6826)
    model = BTLM(config)
    names = [n for n, _ in model.named_parameters()]
    assert not any("lm_head" in n for n in names)  # output layer = tied embedding
    assert 3_000_000 < sum(p.numel() for p in model.parameters()) < 4_000_000
    logits = model(torch.zeros((2, 5), dtype=torch.long))
    assert logits.shape == (2, 5, 50257)
    # causal: changing a later token does not change earlier logits
    ids = torch.randint(0, 50257, (1, 6), generator=torch.Generator().manual_seed(0))
    changed = ids.clone()
    changed[0, 4] = (changed[0, 4] + 1) % 50257
    assert torch.allclose(model(ids)[0, :4], model(changed)[0, :4]) and not torch.allclose(
        model(ids)[0, 4], model(changed)[0, 4]
    )


def test_train_smoke_loss_falls(tok, tmp_path) -> None:
    pytest.importorskip("torch")
    from slimpajama.train.cli import train_smoke_command

    result = CliRunner().invoke(
        train_smoke_command,
        [tok, "--steps", "50", "--seed", "0", "--json-out", str(tmp_path / "smoke.json")],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("step")] == [
        str(i) for i in range(1, 51)
    ]
    smoke = json.load(open(tmp_path / "smoke.json"))
    assert len(smoke["losses"]) == 50
    assert smoke["initial_held_out"] > 10.0  # ~ln(50257) at initialization
    assert smoke["final_held_out"] < smoke["initial_held_out"] - 3.0
    assert (
        f"initial {smoke['initial_held_out']:.4f} -> final {smoke['final_held_out']:.4f}"
        in lines[-1]
    )
