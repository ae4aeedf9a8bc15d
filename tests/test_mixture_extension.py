"""The mixture attack on an extension's added merges (issue 17, item 2).

A base BPE is trained on real FLORES text, continued (``initial_merges``) on other text; the
attack with ``base`` traces each category from its segmentation by the base's merges. Checked:
that starting state against the reference library (HF ``tokenizers`` encoding with the base), the
trace from it against the full trace from bytes (same counts at every later step), the
controlled extension experiment (the attack recovers the second mixture clearly better than
the naive attacks that trace from bytes), ``attack mixture --base`` on the command line, and the
error when the tokenizer does not extend the base.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokbench.attacks.mixture import TraceSet, run_mixture_attack
from tokbench.attacks.mixture.merges import extract_merges, inherited_merges, listed_prefix
from tokbench.attacks.mixture.runner import base_prefix
from tokbench.attacks.mixture.traces import PairTrace, start_table, trace_words, word_table
from tokbench.errors import TokbenchError
from tokbench.metrics.compare.merges import tokenizer_merge_relation

BASE_STEPS = 120
ADDED = 150


@pytest.fixture(scope="module")
def corpus(flores_dir):
    from tokbench.corpora import load_corpus

    return load_corpus("flores:eng_Latn,fra_Latn,deu_Latn")


@pytest.fixture(scope="module")
def pair(corpus):
    """(base trained on English, extension continued on French): real text, small vocabularies."""
    from tokbench.trainers.bpe import train_bpe

    base = train_bpe(corpus.documents("eng_Latn")[:400], vocab_size=256 + BASE_STEPS, progress=False).tokenizer
    ext = train_bpe(corpus.documents("fra_Latn")[:400], vocab_size=256 + BASE_STEPS + ADDED,
                    initial_merges=base, progress=False).tokenizer
    return base, ext


def _counts_at(trace: PairTrace, step: int, replicate: int) -> dict[int, int]:
    """Every pair's non-zero count after ``step`` merges of the trace."""
    counts = dict(zip(trace.init_keys.tolist(), trace.init_vals[:, replicate].tolist(), strict=True))
    end = int(trace.d_off[step])
    for key, change in zip(trace.d_keys[:end].tolist(), trace.d_vals[:end, replicate].tolist(), strict=True):
        counts[key] = counts.get(key, 0) + change
    return {k: v for k, v in counts.items() if v}


def test_inherited_count_agrees_with_compare(pair):
    base, ext = pair
    rel = tokenizer_merge_relation(base, ext)
    assert rel.relation == "b_extends_a"
    assert inherited_merges(base, ext) == rel.inherited == len(base.merges)
    ml = extract_merges(ext)
    assert listed_prefix(ext, ml, rel.inherited) == len(base.merges)
    # the base's tokens keep their ids in the extension (the trace start uses the extension's ids)
    assert list(ext.vocab[: len(base.vocab)]) == list(base.vocab)


def test_start_state_is_the_base_segmentation_of_the_reference_library(pair, corpus, tmp_path):
    from tokenizers import Tokenizer as HFTokenizer

    base, ext = pair
    hf = HFTokenizer.from_file(str(base.save(tmp_path / "base.json")))
    start, _ = extract_merges(ext).split(len(base.merges))
    table = word_table(ext, corpus.documents("deu_Latn")[:150])
    started = start_table(table, start)
    offs = np.concatenate([[0], np.cumsum(table.lengths)])
    soffs = np.concatenate([[0], np.cumsum(started.lengths)])
    changed = 0
    for w in range(table.n_words):
        piece = b"".join(ext.vocab[s] for s in table.syms[offs[w]:offs[w + 1]]).decode("utf-8")
        ours = started.syms[soffs[w]:soffs[w + 1]].tolist()
        assert ours == hf.encode(piece, add_special_tokens=False).ids, piece
        changed += len(ours) < table.lengths[w]
    assert changed > table.n_words // 2  # the base merges do segment most words
    assert (started.counts == table.counts).all()


def test_trace_from_the_base_state_equals_the_full_trace_later_steps(pair, corpus):
    base, ext = pair
    ml = extract_merges(ext)
    k = len(base.merges)
    table = word_table(ext, corpus.documents("deu_Latn")[:300], replicates=2, seed=3)
    full = trace_words(table, ml)
    start, added = ml.split(k)
    assert added.offset == k and len(added) == len(ml) - k
    part = trace_words(start_table(table, start), added)
    assert np.array_equal(part.merged, full.merged[k:])
    assert np.array_equal(part.n_bytes, full.n_bytes)
    for j in (0, 1, 7, 60, len(added)):
        for r in range(3):
            assert _counts_at(part, j, r) == _counts_at(full, k + j, r)
    # the LP's normaliser is the pair total of the base's segmentation, not of the bytes
    assert (part.total_pairs() < full.total_pairs()).all()


def test_traceset_base_merges_and_trace_cache_key(pair, corpus, tmp_path):
    base, ext = pair
    small = corpus.sample(max_bytes=20_000, seed=0)
    k = base_prefix(ext, base)
    with_base = TraceSet.from_corpus(ext, small, n_steps=40, base_merges=k, cache_dir=tmp_path)
    from_bytes = TraceSet.from_corpus(ext, small, n_steps=40, cache_dir=tmp_path)
    cached = TraceSet.from_corpus(ext, small, n_steps=40, base_merges=k, cache_dir=tmp_path)
    assert with_base.merges.offset == k and from_bytes.merges.offset == 0
    assert int(with_base.merges.left[0]) == int(extract_merges(ext).left[k])
    for a, b, c in zip(with_base.traces, from_bytes.traces, cached.traces, strict=True):
        assert np.array_equal(a.merged, c.merged) and np.array_equal(a.init_vals, c.init_vals)
        assert a.total_pairs()[0] < b.total_pairs()[0]  # distinct cache entries, not a stale hit


def test_not_an_extension_raises(pair, corpus):
    from tokbench.trainers.bpe import train_bpe

    base, ext = pair
    other = train_bpe(corpus.documents("deu_Latn")[:200], vocab_size=256 + BASE_STEPS, progress=False).tokenizer
    with pytest.raises(TokbenchError, match="does not extend"):
        inherited_merges(other, ext)
    with pytest.raises(TokbenchError, match="does not extend"):
        run_mixture_attack(ext, corpus.sample(max_bytes=10_000, seed=0), n_steps=20, base=other)
    with pytest.raises(TokbenchError, match="same merges"):
        inherited_merges(ext, ext)
    with pytest.raises(TokbenchError, match="not both"):
        run_mixture_attack(ext, corpus.sample(max_bytes=10_000, seed=0), n_steps=20, base=base, skip=3)


def test_cli_base(pair, corpus, tmp_path, capsys):
    import io

    import pandas as pd

    from tokbench.cli.main import main
    from tokbench.formats import load_tokenizer

    base, ext = pair
    base_path, ext_path = base.save(tmp_path / "base.json"), ext.save(tmp_path / "ext.json")
    spec = "flores:eng_Latn,fra_Latn,deu_Latn"
    code = main(["attack", "mixture", str(ext_path), "--base", str(base_path), "--categories", spec,
                 "--max-bytes", "30k", "--steps", "60", "--csv", "--no-cache", "--no-diagnostics"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{BASE_STEPS:,} inherited merges" in err
    frame = pd.read_csv(io.StringIO(out))
    assert set(frame["category"]) == {"eng_Latn", "fra_Latn", "deu_Latn"}
    assert frame["steps"].eq(60).all()
    assert abs(frame["proportion"].sum() - 1) < 1e-9
    # the same numbers as the Python API on the loaded files
    api = run_mixture_attack(load_tokenizer(str(ext_path)), corpus.sample(max_bytes=30_000, seed=0), n_steps=60,
                             base=load_tokenizer(str(base_path)), use_cache=False, diagnostics=False)
    got = dict(zip(frame["category"], frame["proportion"], strict=True))
    for cat, p in zip(api.categories, api.fit.proportions, strict=True):
        assert got[cat] == pytest.approx(p, abs=1e-9)
    assert api.options["base_merges"] == BASE_STEPS


def test_cli_base_not_an_extension_says_what_compare_found(pair, tmp_path, capsys):
    from tokbench.cli.main import main

    base, ext = pair
    base_path, ext_path = base.save(tmp_path / "base.json"), ext.save(tmp_path / "ext.json")
    # the base does not extend the extension: compare finds "A extends B"
    code = main(["attack", "mixture", str(base_path), "--base", str(ext_path), "--categories", "flores:eng_Latn",
                 "--max-bytes", "10k", "--steps", "20", "--no-cache"])
    out, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in err
    assert "compare finds 'A extends B'" in err and "does not extend" in err


def test_cli_controlled_extension(tmp_path, capsys, flores_dir):
    import pandas as pd

    from tokbench.cli.main import main

    out = tmp_path / "ext"
    code = main(["attack", "controlled", "--setting", "extension", "--trials", "1", "--steps", "60",
                 "--base-steps", "40", "--count-bytes", "20k", "--no-baselines", "--jobs", "1", "--out", str(out)])
    printed, err = capsys.readouterr()
    assert code == 0, err
    frame = pd.read_csv(out / "controlled.csv")
    assert frame["setting"].tolist() == ["extension base=40"]
    assert frame["inherited"].tolist() == [40] and frame["steps_used"].tolist() == [60]
    summary = pd.read_csv(out / "controlled_summary.csv")
    for column in ("attack_mean", "naive_skip_mean", "naive_all_mean", "base_steps"):
        assert summary[column].notna().all(), column
    assert (out / "controlled.png").is_file() and (out / "signature.json").is_file()


def test_controlled_extension_beats_the_naive_attacks():
    from tokbench.experiments.mixture_controlled import run_extension_trial, split_halves

    train, count = split_halves("lang5")
    row = run_extension_trial(train, count, n_steps=200, seed=0, base_steps=200, count_bytes=60_000,
                              baselines=False)
    assert row["inherited"] == 200 and row["steps_used"] == 200
    assert abs(sum(row["truth"]) - 1) < 1e-9 and row["truth"] != row["truth_base"]
    # the attack with the base recovers the added data's mixture; tracing from bytes does not
    assert row["attack"] < row["naive_skip"] - 0.5
    assert row["attack"] < row["naive_all"] - 0.5


@pytest.mark.slow
def test_qwen2_over_cl100k_prefix(tokenizer_dir):
    from tokbench.formats import load_tokenizer

    cl100k = load_tokenizer(str(tokenizer_dir / "cl100k_base.tiktoken"))
    qwen = load_tokenizer(str(tokenizer_dir / "qwen2_tokenizer.json"))
    rel = tokenizer_merge_relation(cl100k, qwen)
    assert inherited_merges(cl100k, qwen) == rel.inherited == 98_900
    ml = extract_merges(qwen)
    k = listed_prefix(qwen, ml, rel.inherited)
    start, added = ml.split(k)
    # every merge of the trace start is cl100k's; the first added one is not
    cl_pairs = {(cl100k.vocab[a], cl100k.vocab[b]) for a, b in cl100k.merges}
    assert all((qwen.vocab[a], qwen.vocab[b]) in cl_pairs
               for a, b in zip(start.left.tolist(), start.right.tolist(), strict=True))
    assert (qwen.vocab[int(added.left[0])], qwen.vocab[int(added.right[0])]) not in cl_pairs
