"""Mixture category diagnostics (tokbench.attacks.mixture.diagnostics): does the offered category
set explain the merges, and what do the merges it misses look like? On a byte-level BPE trained
by tokbench on real FLORES English + Russian, counted on held-out FLORES text; on GPT-2's files
through the CLI, its merge texts checked against the ``tokenizers`` library."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokbench.attacks.mixture import SCALE, TraceSet, diagnose, infer_mixture
from tokbench.attacks.mixture.diagnostics import (
    OTHER_LANGUAGE,
    merge_class,
    offered_scripts,
    render_token,
)
from tokbench.trainers.bpe import train_bpe

STEPS = 300


@pytest.fixture(scope="module")
def eng_rus(flores_dir):  # type: ignore[no-untyped-def]
    """A byte-level BPE trained on FLORES dev English and Russian (2:1 by documents), and held-out
    devtest samples of both to count on."""
    from tokbench.corpora import load_flores

    dev = load_flores("eng_Latn,rus_Cyrl", split="dev", flores_dir=flores_dir)
    texts = dev.documents("eng_Latn")[:600] + dev.documents("rus_Cyrl")[:300]
    tok = train_bpe(texts, vocab_size=256 + STEPS, progress=False).tokenizer
    count = load_flores("eng_Latn,rus_Cyrl", split="devtest", flores_dir=flores_dir).sample(max_bytes=60_000, seed=0)
    return tok, count


def _diagnosed(tok, corpus):  # type: ignore[no-untyped-def]
    ts = TraceSet.from_corpus(tok, corpus, n_steps=STEPS, use_cache=False)
    fit = infer_mixture(ts, stable_tol=None, gap_tol=None)
    return ts, fit, diagnose(ts, fit, vocab=tok.vocab)


def test_withheld_language_lowers_the_share_and_shows_its_script(eng_rus) -> None:  # type: ignore[no-untyped-def]
    tok, count = eng_rus
    _, _, both = _diagnosed(tok, count)
    ts, _, eng = _diagnosed(tok, count.subset(["eng_Latn"]))
    # Offered every training language, the mixture's most frequent pair is the merge on most early
    # steps; without Russian, the Cyrillic merges are never explained (their pairs are in no sample).
    assert both.share(1, 100) >= 0.5 and both.share() > eng.share() + 0.15
    assert both.share(1, 100) > eng.share(1, 100)
    cyrillic = OTHER_LANGUAGE + "Cyrillic"
    eng_classes, both_classes = eng.class_counts(), both.class_counts()
    assert eng_classes.index[0] == cyrillic and cyrillic not in both_classes.index
    frame = eng.unexplained_frame()
    rows = frame[frame["class"] == cyrillic]
    # Each such merge decodes to Cyrillic text (or bytes of it) and is counted in the classes frame.
    for step, text in zip(rows["step"], rows["merge"], strict=True):
        data = tok.vocab[int(ts.merges.left[step - 1])] + tok.vocab[int(ts.merges.right[step - 1])]
        assert render_token(data) == text and merge_class(data, offered_scripts(["eng_Latn"])) == cyrillic
    classes = eng.classes_frame()
    assert int(classes.loc[classes["class"] == cyrillic, "steps"].iloc[0]) == len(rows)
    assert any("are Cyrillic text that no offered category" in note for note in eng.notes) and not both.notes


def test_explained_steps_match_brute_force_weights(eng_rus) -> None:  # type: ignore[no-untyped-def]
    """The sweep's verdict equals the argmax of the weighted pair counts, recomputed per step from
    the traces' initial counts and deltas (no heap)."""
    tok, count = eng_rus
    ts, fit, diag = _diagnosed(tok, count)
    pk = ts.pack()
    scale = fit.alpha * SCALE / pk.total_pairs
    for t in (0, 1, 7, 50, 120, STEPS - 1):
        weights: dict[int, float] = {}
        for s, tr in zip(scale, ts.traces, strict=True):
            end = int(tr.d_off[t])
            keys = np.concatenate([tr.init_keys, tr.d_keys[:end]])
            vals = np.concatenate([tr.init_vals[:, 0], tr.d_vals[:end, 0]])
            uniq, inv = np.unique(keys, return_inverse=True)
            for k, c in zip(uniq.tolist(), np.bincount(inv, weights=vals).tolist(), strict=True):
                weights[k] = weights.get(k, 0.0) + s * c
        merged = (int(ts.merges.left[t]) << 32) | int(ts.merges.right[t])
        top = max(v for k, v in weights.items() if k != merged)
        assert diag.strict_violation[t] == pytest.approx(max(0.0, top - weights.get(merged, 0.0)), abs=1e-6)
        assert diag.merged_weight[t] == pytest.approx(weights.get(merged, 0.0), rel=1e-9)


def test_slack_split_reproduces_the_fit_objective(eng_rus) -> None:  # type: ignore[no-untyped-def]
    """At the fit's α the cheapest slack covering every constraint costs the LP's optimum (up to the
    LP's tolerance of 1.0 per step), and granting its pair slacks leaves each step the step slack
    it was given: what the diagnostics call a step's violation."""
    tok, count = eng_rus
    _, fit, diag = _diagnosed(tok, count)
    assert fit.converged
    total = diag.slack_step + diag.slack_pair
    assert fit.objective * (1 - 1e-6) - 1e-6 <= total <= fit.objective + 1.0 * STEPS
    assert diag.slack_step * (1 - 1e-6) - 1e-6 <= diag.violation.sum() <= diag.slack_step + 1.0 * STEPS
    assert (diag.violation <= diag.strict_violation + 1e-9).all() and diag.slack_pair > 0
    frame = diag.to_frame()
    assert list(frame["window"]) == ["1-100", "101-300", "all"]
    assert frame["steps"].iloc[:-1].sum() == STEPS and frame["explained"].iloc[-1] == diag.explained.sum()


def test_merge_classes() -> None:
    latin = offered_scripts(["eng_Latn", "python"])
    assert merge_class(b"http", latin) == "URL/markup" and merge_class(b'="', latin) == "URL/markup"
    assert merge_class(b"\n\n", latin) == "whitespace/indentation" and merge_class(b" 19", latin) == "digits"
    assert merge_class(b").", latin) == "punctuation/symbols" and merge_class(b" \\", latin) == "LaTeX/Markdown"
    assert merge_class(b"**", latin) == "LaTeX/Markdown"
    assert merge_class(" при".encode(), latin) == OTHER_LANGUAGE + "Cyrillic"
    assert merge_class(" при".encode(), offered_scripts(["rus_Cyrl"])) == "same script as offered categories"
    assert merge_class("한".encode()[:2], latin) == OTHER_LANGUAGE + "Hangul"  # a cut character
    assert merge_class("の".encode(), offered_scripts(["jpn_Jpan"])) == "same script as offered categories"
    assert render_token(b" a\tb\r") == "▁a\\tb\\r"


def test_gpt2_cli_prints_and_writes_the_diagnostics(tmp_path, tokenizer_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    import pandas as pd
    from tokenizers import Tokenizer, decoders
    from tokenizers.models import BPE

    from tokbench.cli import attack

    parser = argparse.ArgumentParser()
    attack.add_arguments(parser)
    args = parser.parse_args(["mixture", str(tokenizer_dir / "gpt2"), "--categories", "sample:eng_Latn,python",
                              "--steps", "200", "--out", str(tmp_path), "--no-cache"])
    assert attack.run(args) == 0
    out = capsys.readouterr().out
    assert "# diagnostics: categories explain" in out and "#   unexplained " in out
    diag = pd.read_csv(tmp_path / "diagnostics.csv")
    assert list(diag["window"]) == ["1-100", "101-200", "all"] and (diag["explained_share"].between(0, 1)).all()
    unexplained = pd.read_csv(tmp_path / "unexplained.csv", keep_default_na=False)
    assert len(unexplained) == 200 - int(diag["explained"].iloc[-1]) and set(unexplained["tokenizer"]) == {"gpt2"}
    # Each merge's text, against the reference library reading the same files.
    ref = Tokenizer(BPE.from_file(str(tokenizer_dir / "gpt2" / "vocab.json"), str(tokenizer_dir / "gpt2" / "merges.txt")))
    ref.decoder = decoders.ByteLevel()
    lines = [ln for ln in (tokenizer_dir / "gpt2" / "merges.txt").read_text("utf-8").splitlines()
             if ln and not ln.startswith("#version")]
    vocab = json.loads((tokenizer_dir / "gpt2" / "vocab.json").read_text("utf-8"))
    for step, text in zip(unexplained["step"], unexplained["merge"], strict=True):
        decoded = ref.decode([vocab[lines[step - 1].replace(" ", "")]])
        if "\ufffd" not in decoded:  # a cut multi-byte character decodes to U+FFFD there, to \xNN here
            assert text == render_token(decoded.encode("utf-8"))


def test_audit_shows_the_diagnostics(eng_rus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The audit's mixture part carries the diagnostics frames; the report's mixture section shows
    them in a table and says in its opening sentence what the categories miss (here: Russian)."""
    import tokbench

    tok, count = eng_rus
    res = tokbench.audit([tok], corpus=count.subset(["eng_Latn"]), analyses=["mixture"], progress=False)
    assert not res.failures, res.failures
    frames = res.to_frames()
    diag, classes = frames["mixture_diagnostics"], frames["mixture_unexplained"]
    assert list(diag["window"])[-1] == "all" and diag["steps"].iloc[-1] == STEPS
    assert classes.iloc[0]["class"] == OTHER_LANGUAGE + "Cyrillic" and classes.iloc[0]["first_1000"] > 0
    report = res.report()
    section = next(s for s in report.sections if "mixture" in s.title.lower())
    assert any(t.title == "How well the categories explain the merges" for t in section.tables)
    assert "Cyrillic text no category is written in" in section.explanation
    card = report.cards[0]
    assert any(label == "merges the categories explain" for label, _ in card.facts)
    res.write(tmp_path, pdf=False)
    assert "How well the categories explain the merges" in (tmp_path / "report.html").read_text("utf-8")
    assert (tmp_path / "tables" / "mixture_unexplained.csv").exists()


def test_cli_no_diagnostics_skips_them(tmp_path, tokenizer_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from tokbench.cli import attack

    parser = argparse.ArgumentParser()
    attack.add_arguments(parser)
    args = parser.parse_args(["mixture", str(tokenizer_dir / "gpt2"), "--categories", "sample:eng_Latn,python",
                              "--steps", "100", "--out", str(tmp_path), "--no-cache", "--no-diagnostics"])
    assert attack.run(args) == 0
    assert "# diagnostics" not in capsys.readouterr().out
    assert (tmp_path / "mixture.csv").exists() and not (tmp_path / "diagnostics.csv").exists()
    assert not (tmp_path / "unexplained.csv").exists()
