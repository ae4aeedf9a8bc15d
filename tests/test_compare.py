"""``tokbench compare`` (issue 17, item 1): vocabulary overlap, merge lineage and segmentation
agreement on the shared tokenizer files, each checked against facts read with the ground-truth
libraries (tiktoken, tokenizers, sentencepiece) or the raw files in the test itself, plus a
controlled "B extends A" case trained here."""

from __future__ import annotations

import bisect
import itertools
import json
import re

import pytest
from shared_files import gpt2_byte_decoder

from tokbench.corpora import load_corpus
from tokbench.errors import TokbenchError
from tokbench.formats import load_tokenizer
from tokbench.metrics.compare import (
    OVERALL,
    agreement_rows,
    compare,
    compare_pair,
    merge_relation,
    segment,
    tokenizer_merge_relation,
    vocab_overlap,
)
from tokbench.metrics.compare.agreement import token_cuts

SPEC = "flores:eng_Latn,rus_Cyrl,zho_Hans@devtest+code:python"
BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>")


@pytest.fixture(scope="module")
def toks(tokenizer_dir):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_tokenizer(tokenizer_dir / name)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def sample(shared_data):
    return load_corpus(SPEC).sample(max_bytes=15_000, seed=0)


# ------------------------------------------------------------------ reference vocabularies


def _hf_ordinary(path) -> set:
    """Ordinary entries of a HF tokenizer.json read with ``tokenizers`` (specials left out),
    keyed like tokbench: bytes, or ``"<0xNN>"`` for SentencePiece byte pieces."""
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    byte_level = "ByteLevel" in json.dumps(data.get("pre_tokenizer")) or "ByteLevel" in json.dumps(data.get("decoder"))
    decoder = gpt2_byte_decoder()
    added = hf.get_added_tokens_decoder()
    specials = {t.content for t in added.values() if t.special}
    keys = set()
    for piece in hf.get_vocab(with_added_tokens=False):
        if piece in specials:
            continue
        if byte_level:
            keys.add(bytes(decoder[c] for c in piece))
        elif BYTE_PIECE.fullmatch(piece) and data["model"].get("byte_fallback"):
            keys.add(piece)
        else:
            keys.add(piece.replace("▁", " ").encode())
    keys |= {t.content.encode() for t in added.values() if not t.special}
    return keys


def _tiktoken_ordinary(path) -> set:
    from tiktoken.load import load_tiktoken_bpe

    return set(load_tiktoken_bpe(str(path)))


def _sentencepiece_ordinary(path) -> set:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(path))
    keys = set()
    for i in range(sp.get_piece_size()):
        if sp.is_control(i) or sp.is_unknown(i):
            continue
        piece = sp.id_to_piece(i)
        keys.add(piece if sp.is_byte(i) else piece.replace("▁", " ").encode())
    return keys


def _gpt2_ordinary(folder) -> set:
    decoder = gpt2_byte_decoder()
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    return {bytes(decoder[c] for c in piece) for piece in vocab if piece != "<|endoftext|>"}


def _tiktoken_encoding(path):
    """tiktoken's own constructor for the named encoding, its download swapped for the local file."""
    from unittest import mock

    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    from tiktoken_ext import openai_public

    constructor = openai_public.r50k_base if path.name.startswith("r50k") else openai_public.cl100k_base
    with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *_a, **_k: load_tiktoken_bpe(str(path))):
        return tiktoken.Encoding(**constructor())


def _check_overlap(ov, ref_a: set, ref_b: set) -> None:
    shared = len(ref_a & ref_b)
    assert (ov.a_size, ov.b_size, ov.shared) == (len(ref_a), len(ref_b), shared)
    assert ov.jaccard == pytest.approx(shared / len(ref_a | ref_b))
    assert sum(r["tokens"] for r in ov.added) == len(ref_b - ref_a)


def _raw_hf_merges(path) -> list[tuple[bytes, bytes]]:
    """merges of a byte-level tokenizer.json, straight from the JSON."""
    decoder = gpt2_byte_decoder()
    merges = json.loads(path.read_text(encoding="utf-8"))["model"]["merges"]
    pairs = [m.split(" ") if isinstance(m, str) else m for m in merges]
    return [(bytes(decoder[c] for c in a), bytes(decoder[c] for c in b)) for a, b in pairs]


# ------------------------------------------------------------------ the five shared pairs


def test_cl100k_olmo2_identical_merges(toks, tokenizer_dir, sample):
    from tokenizers import Tokenizer

    a, b = toks("cl100k_base.tiktoken"), toks("olmo2_tokenizer.json")
    rel = tokenizer_merge_relation(a, b)
    raw = _raw_hf_merges(tokenizer_dir / "olmo2_tokenizer.json")
    assert rel.verdict == "identical merges" and rel.lcp == len(raw) == 100_000
    ov = vocab_overlap(a, b)
    _check_overlap(ov, _tiktoken_ordinary(tokenizer_dir / "cl100k_base.tiktoken"),
                   _hf_ordinary(tokenizer_dir / "olmo2_tokenizer.json"))
    assert ov.a_only == 0 and ov.b_only == 14  # OLMo 2's non-special added tokens (<|extra_id_N|>, |||EMAIL…)
    # identical merges and vocabularies: both libraries must cut every text the same way
    enc = _tiktoken_encoding(tokenizer_dir / "cl100k_base.tiktoken")
    hf = Tokenizer.from_file(str(tokenizer_dir / "olmo2_tokenizer.json"))
    decoder = gpt2_byte_decoder()
    texts = [d for _, docs in sample for d in docs][:300]
    for text in texts:
        assert enc.decode_tokens_bytes(enc.encode_ordinary(text)) == [
            bytes(decoder[c] for c in t) for t in hf.encode(text, add_special_tokens=False).tokens]


def test_r50k_gpt2_identical_and_full_agreement(toks, tokenizer_dir, sample):
    a, b = toks("r50k_base.tiktoken"), toks("gpt2")
    decoder = gpt2_byte_decoder()
    lines = (tokenizer_dir / "gpt2" / "merges.txt").read_text(encoding="utf-8").splitlines()
    raw = [tuple(bytes(decoder[c] for c in part) for part in line.split(" ")) for line in lines
           if line and not line.startswith("#version")]
    # r50k's merges are recovered from ranks; GPT-2's merges.txt is the ground truth
    assert [(a.vocab[x], a.vocab[y]) for x, y in a.merges] == raw
    pair = compare_pair(a, b, segs=(segment(a, sample), segment(b, sample)))
    assert pair.merges.verdict == "identical merges"
    _check_overlap(pair.overlap, _tiktoken_ordinary(tokenizer_dir / "r50k_base.tiktoken"),
                   _gpt2_ordinary(tokenizer_dir / "gpt2"))
    assert pair.overlap.jaccard == 1.0
    total = pair.overall
    assert total["aligned_docs"] == total["documents"] > 0
    assert total["identical_share"] == total["f1"] == total["precision"] == total["recall"] == 1.0
    assert total["a_tokens"] == total["b_tokens"]


def _reference_cuts(tokens: list[bytes], text: str) -> set[int] | None:
    """Character offsets between tokens, from token bytes a library gave (inside-char cuts dropped)."""
    data = text.encode()
    if b"".join(tokens) != data:
        return None
    starts = {offset: k for k, offset in enumerate(itertools.accumulate((len(c.encode()) for c in text), initial=0))}
    cuts = itertools.accumulate(len(t) for t in tokens)
    return {starts[c] for c in cuts if c in starts and 0 < c < len(data)}


def test_gpt2_neox_unrelated_and_agreement_matches_libraries(toks, tokenizer_dir, sample):
    import regex
    from tokenizers import Tokenizer

    a, b = toks("gpt2"), toks("gpt-neox_tokenizer.json")
    pair = compare_pair(a, b, segs=(segment(a, sample), segment(b, sample)))
    decoder = gpt2_byte_decoder()
    ra = [tuple(bytes(decoder[c] for c in p) for p in line.split(" ")) for line in
          (tokenizer_dir / "gpt2" / "merges.txt").read_text(encoding="utf-8").splitlines()[1:] if line]
    rb = _raw_hf_merges(tokenizer_dir / "gpt-neox_tokenizer.json")
    lcp = next(k for k, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y)
    assert pair.merges.lcp == lcp < 100 and pair.merges.verdict == "unrelated"
    assert pair.merges.merges_shared == len(set(ra) & set(rb))
    _check_overlap(pair.overlap, _gpt2_ordinary(tokenizer_dir / "gpt2"), _hf_ordinary(tokenizer_dir / "gpt-neox_tokenizer.json"))
    # boundaries recomputed from tiktoken (GPT-2 = r50k) and HF tokenizers (NeoX) token bytes
    enc = _tiktoken_encoding(tokenizer_dir / "r50k_base.tiktoken")
    hf = Tokenizer.from_file(str(tokenizer_dir / "gpt-neox_tokenizer.json"))
    added = {i: t.content.encode() for i, t in hf.get_added_tokens_decoder().items()}  # raw text, not byte-level

    def neox_bytes(text):
        enc_b = hf.encode(text, add_special_tokens=False)
        return [added[i] if i in added else bytes(decoder[c] for c in t) for i, t in zip(enc_b.ids, enc_b.tokens, strict=True)]

    counts = dict.fromkeys(("a", "b", "common", "pretokens", "same"), 0)
    for _category, docs in sample:
        for text in (d for d in docs if d):
            ta, tb = enc.decode_tokens_bytes(enc.encode_ordinary(text)), neox_bytes(text)
            ca, cb = _reference_cuts(ta, text), _reference_cuts(tb, text)
            if ca is None or cb is None:
                continue
            counts["a"] += len(ca)
            counts["b"] += len(cb)
            counts["common"] += len(ca & cb)
            byte_a, byte_b = list(itertools.accumulate(map(len, ta))), list(itertools.accumulate(map(len, tb)))
            set_b = set(byte_b)
            start = 0
            for m in regex.finditer(enc._pat_str, text):
                end = start + len(m.group().encode())
                inner_a = byte_a[bisect.bisect_right(byte_a, start):bisect.bisect_left(byte_a, end)]
                inner_b = byte_b[bisect.bisect_right(byte_b, start):bisect.bisect_left(byte_b, end)]
                counts["pretokens"] += 1
                counts["same"] += (start == 0 or start in set_b) and end in set_b and inner_a == inner_b
                start = end
    total = pair.overall
    assert (total["a_boundaries"], total["b_boundaries"], total["common_boundaries"]) == (
        counts["a"], counts["b"], counts["common"])
    assert (total["pretokens"], total["pretokens_identical"]) == (counts["pretokens"], counts["same"])
    assert total["f1"] == pytest.approx(2 * counts["common"] / (counts["a"] + counts["b"]))
    assert 0.5 < total["f1"] < 1.0  # two similar-but-independent byte-level BPEs


def test_llama_mistral_unrelated(toks, tokenizer_dir):
    import sentencepiece as spm

    a, b = toks("llama_tokenizer.json"), toks("mistral_v1.model")
    rel = tokenizer_merge_relation(a, b)
    _check_overlap(vocab_overlap(a, b), _hf_ordinary(tokenizer_dir / "llama_tokenizer.json"),
                   _sentencepiece_ordinary(tokenizer_dir / "mistral_v1.model"))
    # SentencePiece creates pieces in id order: the two models part ways after their first merged piece
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    vocab = json.loads((tokenizer_dir / "llama_tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    llama_pieces = sorted((i, p) for p, i in vocab.items())
    first = max(i for i in range(sp.get_piece_size()) if sp.is_byte(i)) + 1
    same = next(k for k in itertools.count() if llama_pieces[first + k][1] != sp.id_to_piece(first + k))
    assert rel.lcp == same and rel.verdict == "unrelated"
    assert any("several merges make one token" in n for n in rel.notes)  # HF's Llama conversion


def test_cl100k_qwen2_extends_minus_digit_merges(toks, tokenizer_dir):
    from tiktoken.load import load_tiktoken_bpe

    a, b = toks("cl100k_base.tiktoken"), toks("qwen2_tokenizer.json")
    rel = tokenizer_merge_relation(a, b)
    ranks = load_tiktoken_bpe(str(tokenizer_dir / "cl100k_base.tiktoken"))
    qwen = _hf_ordinary(tokenizer_dir / "qwen2_tokenizer.json")
    missing = [t for t in sorted(ranks, key=ranks.get) if t not in qwen]
    assert missing and all(t.isdigit() and len(t) > 1 for t in missing)  # Qwen splits numbers into digits
    kept = [t for t in sorted(ranks, key=ranks.get) if len(t) > 1 and t in qwen]
    raw = _raw_hf_merges(tokenizer_dir / "qwen2_tokenizer.json")
    assert [x + y for x, y in raw[: len(kept)]] == kept  # cl100k's other tokens, in rank order, open Qwen's merges
    assert rel.verdict == f"B extends A minus {len(missing)} of A's merges" and rel.relation == "b_extends_a"
    assert rel.dropped == len(missing) == 1100 and rel.merges_shared == rel.inherited == len(kept)
    assert rel.lcp == next(k for k, t in enumerate(sorted(ranks, key=ranks.get)[256:]) if t.isdigit() and len(t) > 1)
    reverse = tokenizer_merge_relation(b, a)
    assert reverse.verdict == "A extends B minus 1100 of B's merges"


def test_wordpiece_has_no_merge_verdict(toks):
    res = compare(toks("gpt2"), toks("bert-base-uncased_wordpiece_tokenizer.json"))
    pair = res.pairs[0]
    assert pair.merges.relation == "no_merges" and "no merge list" in pair.merges.verdict
    assert pair.merges.lcp is None and not pair.related
    assert any("WordPiece" in n for n in res.notes)


# ------------------------------------------------------------------ controlled extension


def test_trained_extension_is_detected(tmp_path, shared_data):
    from tokenizers import Tokenizer

    from tokbench.trainers.bpe import train_bpe

    base_corpus = load_corpus("flores:eng_Latn@dev").sample(max_bytes=60_000)
    more = load_corpus("flores:deu_Latn@dev").sample(max_bytes=60_000)
    base = train_bpe(base_corpus, vocab_size=700, progress=False)
    ext = train_bpe(more, vocab_size=1000, initial_merges=base.tokenizer, progress=False)
    base_path, ext_path = base.save(tmp_path / "base.json"), ext.save(tmp_path / "ext.json")
    res = compare(base_path, ext_path, corpus=load_corpus("flores:eng_Latn,deu_Latn@devtest"), max_bytes=10_000)
    pair = res.pairs[0]
    raw_a, raw_b = _raw_hf_merges(base_path), _raw_hf_merges(ext_path)
    assert raw_b[: len(raw_a)] == raw_a and len(raw_b) > len(raw_a)  # read back with json, as saved
    assert pair.merges.verdict == "B extends A" and pair.merges.lcp == len(raw_a) == len(base.merges)
    assert pair.merges.inherited == len(raw_a)
    assert pair.overlap.a_only == 0 and pair.overlap.b_only == len(raw_b) - len(raw_a)
    assert tokenizer_merge_relation(ext.tokenizer, base.tokenizer).verdict == "A extends B"
    # B cuts German into fewer tokens than A; both libraries agree with the counts
    rows = {r["category"]: r for r in pair.agreement}
    hf_a, hf_b = Tokenizer.from_file(str(base_path)), Tokenizer.from_file(str(ext_path))
    deu = [d for d in load_corpus("flores:deu_Latn@devtest").sample(max_bytes=10_000).documents("deu_Latn") if d]
    assert rows["deu_Latn"]["a_tokens"] == sum(len(hf_a.encode(d).ids) for d in deu)
    assert rows["deu_Latn"]["b_tokens"] == sum(len(hf_b.encode(d).ids) for d in deu)
    assert rows["deu_Latn"]["b_tokens_per_char"] < rows["deu_Latn"]["a_tokens_per_char"]
    # B applies A's merges first (lower ranks), then only merges of its own tokens: it coarsens A's
    # segmentation, so every B boundary is an A boundary (precision 1) and B drops some (recall < 1)
    assert pair.overall["precision"] == 1.0 and pair.overall["recall"] < 1.0


def test_merge_relation_verdicts_on_byte_pairs():
    ab, abc, xy = (b"a", b"b"), (b"ab", b"c"), (b"x", b"y")
    assert merge_relation([ab, abc], [ab, abc]).verdict == "identical merges"
    assert merge_relation([ab, abc], [abc, ab]).verdict == "same merges, reordered"
    assert merge_relation([ab, abc], [abc, ab, xy]).verdict == "B extends A (reordered)"
    assert merge_relation([ab, abc, xy], [ab]).verdict == "A extends B"
    assert merge_relation([ab, abc, xy], [ab, (b"y", b"z"), xy], min_prefix=1).verdict == "shared prefix of 1 merges"
    assert merge_relation([ab, abc, xy], [ab, (b"y", b"z"), xy]).verdict == "unrelated"  # below min_prefix
    pruned = merge_relation([ab, (b"1", b"2"), abc], [ab, abc, xy], min_prefix=1)
    assert pruned.verdict == "B extends A minus 1 of A's merges" and pruned.dropped == 1


def test_token_cuts_alignment():
    assert token_cuts([b" Hel", b"lo"], b"Hello") == [3]  # SentencePiece's dummy prefix
    assert token_cuts([b"caf", "é".encode()], "cafe\u0301".encode()) == [3]  # NFC form mapped back
    assert token_cuts([b"HELLO"], b"Hello") is None


# ------------------------------------------------------------------ result, CLI, audit


def test_result_frames_and_signature(toks, sample):
    res = compare(toks("r50k_base.tiktoken"), toks("gpt2"), toks("gpt-neox_tokenizer.json"), corpus=sample,
                  max_bytes=None)
    frames = res.frames()
    assert set(frames) == {"pairs", "overlap_by_class", "added", "agreement"}
    assert [(p.a, p.b) for p in res.pairs] == [("r50k_base", "gpt2"), ("r50k_base", "gpt-neox_tokenizer"),
                                                ("gpt2", "gpt-neox_tokenizer")]
    pairs = res.to_frame()
    assert pairs["jaccard"].iloc[0] == 1.0 and pairs["jaccard"].iloc[1] == pytest.approx(pairs["jaccard"].iloc[2])
    sums = frames["overlap_by_class"].groupby(["a", "b"])[["shared", "a_only", "b_only"]].sum()
    for p in res.pairs:
        assert tuple(sums.loc[(p.a, p.b)]) == (p.overlap.shared, p.overlap.a_only, p.overlap.b_only)
    agree = frames["agreement"]
    assert set(agree["category"]) == {*sample.category_names, OVERALL}
    assert set(res.signature.tokenizers) == {"r50k_base", "gpt2", "gpt-neox_tokenizer"}
    assert res.signature.corpus == sample.signature()
    assert agreement_rows(segment(toks("gpt2"), sample), segment(toks("gpt2"), sample))[-1]["f1"] == 1.0
    # the figures, drawn for the HTML page and for the PDF's narrower text width, stay legible
    from tokbench.reports import style
    from tokbench.reports.compare_figures import added_tokens_figure, relation_matrix_figure

    for width in (style.SHOWN_WIDTH_IN, style.PDF_WIDTH_IN):
        with style.figures_for_width(width):
            for fig in (relation_matrix_figure(frames["pairs"]), added_tokens_figure(frames["added"])):
                sizes = style.text_sizes(fig)
                assert sizes and min(size for _, size in sizes) >= style.MIN_SHOWN_PT
    matrix_text = {t for t, _ in style.text_sizes(relation_matrix_figure(frames["pairs"]))}
    assert "1.000\nidentical" in matrix_text  # r50k vs gpt2


def test_cli_compare_writes_bundle_and_rejects_bad_paths(tmp_path, tokenizer_dir, capsys):
    from tokbench.cli.main import main

    out = tmp_path / "cmp"
    code = main(["compare", str(tokenizer_dir / "r50k_base.tiktoken"), str(tokenizer_dir / "gpt2"),
                 "--corpus", "sample:eng_Latn", "--max-bytes", "5k", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "r50k_base vs gpt2: identical merges" in printed
    assert {p.name for p in out.iterdir()} == {"pairs.csv", "overlap_by_class.csv", "added.csv", "agreement.csv",
                                               "relations.png", "added.png", "signature.json"}
    assert json.loads((out / "signature.json").read_text())["signature"]["tokenizers"]["gpt2"]
    code = main(["compare", str(tokenizer_dir / "gpt2"), str(tmp_path / "missing.json")])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "missing.json" in err
    code = main(["compare", str(tokenizer_dir / "gpt2"), str(tokenizer_dir / "r50k_base.tiktoken"), "--corpus", "nosuch:x"])
    assert code != 0 and capsys.readouterr().err.count("\n") == 1
    with pytest.raises(TokbenchError, match="at least two"):
        from tokbench.cli.compare import run

        run(type("A", (), {"tokenizer": ["x"]})())


def test_audit_adds_section_for_related_pairs_only(tokenizer_dir):
    from tokbench.audit import audit

    res = audit([tokenizer_dir / "r50k_base.tiktoken", tokenizer_dir / "gpt2", tokenizer_dir / "gpt-neox_tokenizer.json"],
                corpus="sample:eng_Latn", analyses=["compression"], progress=False)
    assert res.analyses == ["compression", "compare"] and res.options["analyses"] == ["compression"]
    assert list(res.parts["compare"]) == ["r50k_base vs gpt2"]  # gpt2 vs NeoX share no lineage
    frames = res.to_frames()
    assert frames["compare"]["verdict"].tolist() == ["identical merges"]
    report = res.report()
    section = next(s for s in report.sections if s.title == "Related tokenizers")
    assert section.figures and "r50k_base vs gpt2: identical merges" in section.figures[0].caption
    unrelated = audit([tokenizer_dir / "gpt2", tokenizer_dir / "gpt-neox_tokenizer.json"], corpus="sample:eng_Latn",
                      analyses=["compression"], progress=False)
    assert "compare" not in unrelated.analyses
