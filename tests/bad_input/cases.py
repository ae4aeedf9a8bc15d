"""The cases of the bad-input matrix: every subcommand with bad paths, bad values, typos, missing,
empty, binary and wrong-format files, bad corpus specs and bad output paths; a few valid runs whose
output must be right (pure CSV, the value given used); interruption by signals; Python API calls.

A CLI case is ``argv`` with placeholders filled in by the runner: ``{tmp}`` (a fresh folder holding
the fixture files of :func:`tests.bad_input.run.prepare`), ``{tok}`` (the shared tokenizers) and
``{gpt2}``, ``{cl100k}``, ``{bert}``, ``{spm}``. ``expect`` is the exit status due: 2 for an error
(one line on stderr, no file written or changed), 0 for a run that must succeed, 1 for an audit
that must report a failed item and still write its report. ``check`` names a function of
:mod:`.run` that looks at the outputs; ``setup`` one that prepares more files; ``mode`` is
``inproc`` (``tokbench.cli.main.main`` in this process), ``subprocess``, or ``sigterm``/``sigint``
(a subprocess sent that signal once it has started its work).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    expect: int = 2
    check: str | None = None
    setup: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    mode: str = "inproc"
    slow: bool = False
    timeout: float = 60.0
    within: float | None = None  # an error due after at most this many seconds (checked before the work)


@dataclass(frozen=True)
class ApiCase:
    """A Python API call, ``call`` evaluated with ``tmp``, ``Path`` and ``gpt2`` (a loaded tokenizer) in
    scope; ``expect`` is ``"error"`` (a TokbenchError) or ``"ok"`` (then ``check`` runs on the value)."""

    id: str
    call: str
    expect: str = "error"
    check: str | None = None
    slow: bool = False


def _c(id: str, *argv: str, **kw) -> Case:  # noqa: A002 - the case id
    return Case(id, tuple(argv), **kw)


SMALL = "sample:eng_Latn?max_bytes=3k"
TWO = "flores:eng_Latn,fra_Latn@dev"

INFO = [
    _c("info-missing-file", "info", "{tmp}/nope.json"),
    _c("info-empty-folder", "info", "{tmp}/adir"),
    _c("info-empty-file", "info", "{tmp}/empty.txt"),
    _c("info-empty-json", "info", "{tmp}/empty.json"),
    _c("info-garbage-json", "info", "{tmp}/garbage.json"),
    _c("info-json-list", "info", "{tmp}/list.json"),
    _c("info-binary", "info", "{tmp}/binary.bin"),
    _c("info-binary-model", "info", "{tmp}/binary.model"),
    _c("info-binary-tiktoken", "info", "{tmp}/binary.tiktoken"),
    _c("info-text-tiktoken", "info", "{tmp}/afile.tiktoken"),
    _c("info-vocab-without-merges", "info", "{tmp}/onlyvocab"),
    _c("info-dev-null", "info", "/dev/null"),
    _c("info-fifo", "info", "{tmp}/fifo.json", mode="subprocess", slow=True, timeout=20),
    _c("info-pattern-typo", "info", "{cl100k}", "--pattern", "cl100kk"),
    _c("info-pattern-bad-regex", "info", "{cl100k}", "--pattern", "(["),
    _c("info-no-tokenizer", "info"),
    _c("info-option-typo", "info", "{gpt2}", "--jsn"),
]

ENCODE = [
    _c("encode-file-missing", "encode", "{gpt2}", "--file", "{tmp}/nope.txt"),
    _c("encode-file-is-folder", "encode", "{gpt2}", "--file", "{tmp}/adir"),
    _c("encode-file-bad-utf8", "encode", "{gpt2}", "--file", "{tmp}/bad_utf8.txt"),
    _c("encode-backend-typo", "encode", "{gpt2}", "hi", "--backend", "bogus"),
    _c("encode-no-text", "encode", "{gpt2}"),
    _c("encode-text-and-file", "encode", "{gpt2}", "hi", "--file", "{tmp}/afile.txt"),
    _c("encode-lone-surrogate", "encode", "{gpt2}", "\ud800"),
    _c("encode-garbage-tokenizer", "encode", "{tmp}/garbage.json", "hi"),
    _c("encode-empty-text", "encode", "{gpt2}", "", expect=0),
]

COVERAGE = [
    _c("unreachable-out-is-folder", "unreachable", "{gpt2}", "--sample", "50", "--out", "{tmp}/adir"),
    _c("unreachable-tokens-under-a-file", "unreachable", "{gpt2}", "--sample", "50", "--tokens",
       "{tmp}/afile.txt/x.csv"),
    _c("unreachable-budget-zero", "unreachable", "{gpt2}", "--budget", "0"),
    _c("unreachable-wordpiece-has-no-merges", "unreachable", "{bert}"),
    _c("coverage-out-is-folder", "coverage", "{gpt2}", "--csv", "--out", "{tmp}/adir"),
    _c("coverage-out-under-a-file", "coverage", "{gpt2}", "--csv", "--out", "{tmp}/afile.txt/x.csv"),
    _c("coverage-out-existing-folder-json", "coverage", "{gpt2}", "--json", "--out", "{tmp}/adir"),
    _c("coverage-language-corpus-typo", "coverage", "{gpt2}", "--language-corpus", "flores:xxx_Latn"),
    _c("coverage-language-corpus-empty", "coverage", "{gpt2}", "--language-corpus", "{tmp}/empty.txt"),
    _c("coverage-min-share-negative", "coverage", "{gpt2}", "--alphabet-min-share", "-1"),
    _c("coverage-min-share-nan", "coverage", "{gpt2}", "--alphabet-min-share", "nan"),
    _c("coverage-second-tokenizer-missing", "coverage", "{gpt2}", "{tmp}/nope.json", "--no-languages"),
    _c("coverage-json-and-csv", "coverage", "{gpt2}", "--json", "--csv"),
]

PREMIUMS = [
    _c("premiums-out-is-folder", "premiums", "{gpt2}", "--corpus", TWO, "--bootstrap", "0", "--csv", "--out", "{tmp}/adir"),
    _c("premiums-summary-out-is-folder", "premiums", "{gpt2}", "--corpus", TWO, "--bootstrap", "0",
       "--summary-out", "{tmp}/adir"),
    _c("premiums-out-kept-on-error", "premiums", "{gpt2}", "--corpus", "flores:xxx_Latn", "--csv", "--out", "{tmp}/old.csv"),
    _c("premiums-language-typo", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn,fra_Latm"),
    _c("premiums-empty-language-name", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn,,fra_Latn", "--bootstrap", "0"),
    _c("premiums-trailing-comma", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn,fra_Latn,", "--bootstrap", "0"),
    _c("premiums-reference-absent", "premiums", "{gpt2}", "--corpus", TWO, "--reference", "deu_Latn"),
    _c("premiums-bootstrap-negative", "premiums", "{gpt2}", "--corpus", TWO, "--bootstrap", "-5"),
    _c("premiums-confidence-2", "premiums", "{gpt2}", "--corpus", TWO, "--confidence", "2"),
    _c("premiums-confidence-0", "premiums", "{gpt2}", "--corpus", TWO, "--confidence", "0"),
    _c("premiums-max-unknown-negative", "premiums", "{gpt2}", "--corpus", TWO, "--max-unknown", "-0.5"),
    _c("premiums-split-typo", "premiums", "{gpt2}", "--split", "devv"),
    _c("premiums-method-typo", "premiums", "{gpt2}", "--method", "petrof"),
    _c("premiums-corpus-empty-file", "premiums", "{gpt2}", "--corpus", "{tmp}/empty.txt"),
    _c("premiums-corpus-binary", "premiums", "{gpt2}", "--corpus", "{tmp}/binary.bin"),
    _c("premiums-corpus-bad-utf8", "premiums", "{gpt2}", "--corpus", "{tmp}/bad_utf8.txt"),
    _c("premiums-corpus-missing", "premiums", "{gpt2}", "--corpus", "{tmp}/nope.txt"),
    _c("premiums-corpus-empty-folder", "premiums", "{gpt2}", "--corpus", "{tmp}/adir"),
    _c("premiums-corpus-bad-size", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn?max_bytes=abc"),
    _c("premiums-corpus-unknown-option", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn?foo=1"),
    _c("premiums-corpus-split-typo", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn@devv"),
    _c("premiums-corpus-prefix-typo", "premiums", "{gpt2}", "--corpus", "flroes:eng_Latn"),
    _c("premiums-corpus-stray-plus", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn+"),
    _c("premiums-corpus-empty-spec", "premiums", "{gpt2}", "--corpus", " "),
    _c("premiums-corpus-duplicate-names", "premiums", "{gpt2}", "--corpus", "a=flores:eng_Latn+a=flores:fra_Latn"),
    _c("premiums-corpus-split-twice", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn@dev?split=devtest"),
    _c("premiums-corpus-option-of-another-prefix", "premiums", "{gpt2}", "--corpus", "flores:eng_Latn?field=x"),
    _c("premiums-csv-is-pure", "premiums", "{gpt2}", "--corpus", TWO, "--bootstrap", "0", "--csv",
       expect=0, check="pure_csv"),
]

OPTIMAL_VOCAB = [
    _c("ov-out-is-a-file", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "300,400,500",
       "--out", "{tmp}/afile.txt"),
    _c("ov-grid-not-numbers", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "a,b,c",
       "--out", "{tmp}/ov"),
    _c("ov-grid-two-sizes", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "300,400",
       "--out", "{tmp}/ov"),
    _c("ov-grid-negative", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "-1,300,400",
       "--out", "{tmp}/ov"),
    _c("ov-corpus-typo", "optimal-vocab", "--corpus-train", "flores:xxx_Latn", "--corpus-eval", TWO,
       "--grid", "300,400,500", "--out", "{tmp}/ov"),
    _c("ov-max-vocab-0", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "300,400,500",
       "--max-vocab", "0", "--out", "{tmp}/ov"),
    _c("ov-jobs-0", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "300,400,500",
       "--jobs", "0", "--out", "{tmp}/ov"),
    _c("ov-unreachable-typo", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid", "300,400,500",
       "--unreachable", "maybe", "--out", "{tmp}/ov"),
    _c("ov-empty-language-name", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--grid",
       "300,400,500", "--languages", "eng_Latn,", "--out", "{tmp}/ov"),
    _c("ov-missing-grid", "optimal-vocab", "--corpus-train", TWO, "--corpus-eval", TWO, "--out", "{tmp}/ov"),
]

_TRAIN = ("train", "--corpus", SMALL, "--no-progress")

TRAIN = [
    _c("train-char-max-length-0", *_TRAIN, "--trainer", "char", "--max-token-length", "0", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-char-max-length-negative", *_TRAIN, "--trainer", "char", "--max-token-length", "-3",
       "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-char-max-length-2-used", *_TRAIN, "--trainer", "char", "--max-token-length", "2",
       "--vocab-size", "400", "-o", "{tmp}/o.json", expect=0, check="char_tokens_at_most_2"),
    _c("train-bpe-max-length-0", *_TRAIN, "--max-token-length", "0", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-vocab-0", *_TRAIN, "--vocab-size", "0", "-o", "{tmp}/o.json"),
    _c("train-vocab-negative", *_TRAIN, "--vocab-size", "-100", "-o", "{tmp}/o.json"),
    _c("train-vocab-too-small", *_TRAIN, "--vocab-size", "10", "-o", "{tmp}/o.json"),
    _c("train-out-is-folder", *_TRAIN, "--vocab-size", "400", "-o", "{tmp}/adir"),
    _c("train-out-under-a-file", *_TRAIN, "--vocab-size", "400", "-o", "{tmp}/afile.txt/o.json"),
    _c("train-trace-is-folder", *_TRAIN, "--vocab-size", "400", "-o", "{tmp}/o.json", "--trace", "{tmp}/adir"),
    _c("train-trace-same-as-out", *_TRAIN, "--vocab-size", "400", "-o", "{tmp}/o.json", "--trace", "{tmp}/o.json"),
    _c("train-trace-and-out-written", *_TRAIN, "--vocab-size", "400", "-o", "{tmp}/o.json", "--trace",
       "{tmp}/t.csv", expect=0, check="train_outputs"),
    _c("train-trainer-typo", *_TRAIN, "--trainer", "bpee", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-corpus-empty-file", "train", "--corpus", "{tmp}/empty.txt", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-corpus-blank-lines", "train", "--corpus", "{tmp}/blank.txt", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-corpus-missing", "train", "--corpus", "{tmp}/nope.txt", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-corpus-code-typo", "train", "--corpus", "code:pyton", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-flag-of-another-trainer", *_TRAIN, "--limit-alphabet", "5", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-min-frequency-negative", *_TRAIN, "--min-frequency", "-2", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-continue-from-missing", *_TRAIN, "--continue-from", "{tmp}/nope.json", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-continue-from-garbage", *_TRAIN, "--continue-from", "{tmp}/garbage.json", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-pattern-typo", *_TRAIN, "--pattern", "gpt22", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-pattern-bad-regex", *_TRAIN, "--pattern", "([", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-hybrid-without-lexicon", *_TRAIN, "--trainer", "hybrid", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-hybrid-lexicon-missing", *_TRAIN, "--trainer", "hybrid", "--lexicon", "{tmp}/nope", "--vocab-size",
       "400", "-o", "{tmp}/o.json"),
    _c("train-transition-0", *_TRAIN, "--trainer", "superword", "--transition", "0", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-max-words-0", *_TRAIN, "--trainer", "superword", "--max-words", "0", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-limit-alphabet-0", *_TRAIN, "--trainer", "char", "--limit-alphabet", "0", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-normalization-typo", *_TRAIN, "--trainer", "char", "--normalization", "NFKQ", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-special-token-empty", *_TRAIN, "--special-token", "", "--vocab-size", "400", "-o", "{tmp}/o.json"),
    _c("train-spm-out-is-folder", *_TRAIN, "--trainer", "spm-bpe", "--vocab-size", "400", "-o", "{tmp}/adir"),
    _c("train-missing-out", *_TRAIN, "--vocab-size", "400"),
    _c("train-corpus-max-bytes-0", "train", "--corpus", "sample:eng_Latn?max_bytes=0", "--vocab-size", "400",
       "-o", "{tmp}/o.json"),
    _c("train-out-kept-on-error", *_TRAIN, "--trainer", "bpee", "--vocab-size", "400", "-o", "{tmp}/old.csv"),
]

TRAINERS_EXPERIMENT = [
    _c("te-out-is-folder", "trainers-experiment", "--languages", "eng_Latn", "--code", "", "--trainers", "bpe",
       "--vocab-sizes", "300", "--out", "{tmp}/adir"),
    _c("te-vocab-sizes-not-numbers", "trainers-experiment", "--vocab-sizes", "a,b", "--out", "{tmp}/te.csv"),
    _c("te-vocab-sizes-0", "trainers-experiment", "--vocab-sizes", "0", "--out", "{tmp}/te.csv"),
    _c("te-vocab-sizes-empty", "trainers-experiment", "--vocab-sizes", ",", "--out", "{tmp}/te.csv"),
    _c("te-trainer-typo", "trainers-experiment", "--trainers", "bpe,foo", "--languages", "eng_Latn", "--code", "",
       "--vocab-sizes", "300", "--out", "{tmp}/te.csv"),
    _c("te-language-typo", "trainers-experiment", "--languages", "xxx_Latn", "--code", "", "--trainers", "bpe",
       "--vocab-sizes", "300", "--out", "{tmp}/te.csv"),
    _c("te-empty-language-name", "trainers-experiment", "--languages", "eng_Latn,,fra_Latn", "--code", "",
       "--trainers", "bpe", "--vocab-sizes", "300", "--out", "{tmp}/te.csv"),
    _c("te-code-typo", "trainers-experiment", "--languages", "eng_Latn", "--code", "cobol", "--trainers", "bpe",
       "--vocab-sizes", "300", "--out", "{tmp}/te.csv"),
    _c("te-jobs-negative", "trainers-experiment", "--jobs", "-1", "--out", "{tmp}/te.csv"),
]

_GEN = ("charbench", "generate", "--corpus", "sample:eng_Latn")
_ITEMS = "{tmp}/items.jsonl"

CHARBENCH = [
    _c("cb-generate-out-is-folder", *_GEN, "--out", "{tmp}/adir"),
    _c("cb-generate-per-length-0", *_GEN, "--per-length", "0", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-min-above-max", *_GEN, "--min-length", "9", "--max-length", "4", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-length-0", *_GEN, "--min-length", "0", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-corpus-typo", "charbench", "generate", "--corpus", "sample:eng_Latm", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-task-typo", *_GEN, "--tasks", "count_char,cuont_unique", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-bad-word-regex", *_GEN, "--word-pattern", "([", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-empty-task-name", *_GEN, "--tasks", "count_char,,last_index", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-empty-word-pattern", *_GEN, "--word-pattern", "", "--out", "{tmp}/i.jsonl"),
    _c("cb-generate-normalization-typo", *_GEN, "--normalization", "NFQ", "--out", "{tmp}/i.jsonl"),
    _c("cb-features-items-missing", "charbench", "features", "{tmp}/nope.jsonl", "{gpt2}", "--out", "{tmp}/f.csv"),
    _c("cb-features-items-not-json", "charbench", "features", "{tmp}/notjson.jsonl", "{gpt2}", "--out", "{tmp}/f.csv"),
    _c("cb-features-items-empty", "charbench", "features", "{tmp}/empty.txt", "{gpt2}", "--out", "{tmp}/f.csv"),
    _c("cb-features-items-folder", "charbench", "features", "{tmp}/adir", "{gpt2}", "--out", "{tmp}/f.csv"),
    _c("cb-features-out-is-folder", "charbench", "features", _ITEMS, "{gpt2}", "--out", "{tmp}/adir", setup="items"),
    _c("cb-features-table-is-folder", "charbench", "features", _ITEMS, "{gpt2}", "--out", "{tmp}/f.csv",
       "--table", "{tmp}/adir", setup="items"),
    _c("cb-features-figures-is-a-file", "charbench", "features", _ITEMS, "{gpt2}", "--out", "{tmp}/f.csv",
       "--figures", "{tmp}/afile.txt", setup="items"),
    _c("cb-features-tokenizer-missing", "charbench", "features", _ITEMS, "{tmp}/nope.json", "--out", "{tmp}/f.csv",
       setup="items"),
    _c("cb-ask-items-missing", "charbench", "ask", "{tmp}/nope.jsonl", "--base-url", "http://127.0.0.1:9/v1",
       "--model", "m", "--out", "{tmp}/a.jsonl"),
    _c("cb-ask-limit-negative", "charbench", "ask", _ITEMS, "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
       "--out", "{tmp}/a.jsonl", "--limit", "-1", setup="items"),
    _c("cb-ask-timeout-0", "charbench", "ask", _ITEMS, "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
       "--out", "{tmp}/a.jsonl", "--timeout", "0", setup="items"),
    _c("cb-ask-bad-url", "charbench", "ask", _ITEMS, "--base-url", "notaurl", "--model", "m", "--out",
       "{tmp}/a.jsonl", "--limit", "1", "--retries", "0", "--timeout", "2", setup="items"),
    _c("cb-ask-out-is-folder", "charbench", "ask", _ITEMS, "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
       "--out", "{tmp}/adir", "--limit", "1", "--retries", "0", setup="items"),
    _c("cb-score-items-missing", "charbench", "score", "{tmp}/nope.jsonl", "--answers", "{tmp}/afile.txt"),
    _c("cb-score-answers-missing", "charbench", "score", _ITEMS, "--answers", "{tmp}/nope.jsonl", setup="items"),
    _c("cb-score-answers-garbage", "charbench", "score", _ITEMS, "--answers", "{tmp}/notjson.jsonl", setup="items"),
    _c("cb-score-features-binary", "charbench", "score", _ITEMS, "--answers", "{tmp}/answers.jsonl",
       "--features", "{tmp}/binary.bin", setup="items"),
    _c("cb-score-out-is-a-file", "charbench", "score", _ITEMS, "--answers", "{tmp}/answers.jsonl",
       "--out", "{tmp}/afile.txt", setup="items"),
    _c("cb-score-bins-0", "charbench", "score", _ITEMS, "--answers", "{tmp}/answers.jsonl", "--bins", "0",
       setup="items"),
    _c("cb-no-action", "charbench"),
]

_MF = ("mergefree", "{gpt2}")

MERGEFREE = [
    _c("mf-out-is-a-file", *_MF, "--corpus", SMALL, "--out", "{tmp}/afile.txt"),
    _c("mf-delete-fraction-2", *_MF, "--corpus", SMALL, "--delete-fraction", "2"),
    _c("mf-truncate-share-0", *_MF, "--corpus", SMALL, "--truncate-share", "0"),
    _c("mf-truncate-share-negative", *_MF, "--corpus", SMALL, "--truncate-share", "-1"),
    _c("mf-corpus-typo", *_MF, "--corpus", "flores:eng_Latn,xxx_Latn"),
    _c("mf-empty-language-name", *_MF, "--corpus", "flores:eng_Latn,,deu_Latn@dev?max_bytes=2k"),
    _c("mf-corpus-code-empty-name", *_MF, "--corpus", "code:python,,c"),
    _c("mf-tokenizer-missing", "mergefree", "{tmp}/nope.json", "--corpus", SMALL),
    _c("mf-csv-is-pure", *_MF, "--corpus", SMALL, "--csv", expect=0, check="pure_csv"),
    _c("mf-hf-offline", *_MF, "--corpus", "hf:tokbench-no-such-user/no-such-dataset", mode="subprocess",
       timeout=20, env={"HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": ""}),
    _c("mf-hf-missing-local-file", *_MF, "--corpus", "hf:json?data_files={tmp}/nope.jsonl", mode="subprocess",
       timeout=20),
]

_MIX = ("attack", "mixture", "{gpt2}")
_CATS = "sample:eng_Latn,python?max_bytes=4k"

ATTACK = [
    _c("mix-steps-0", *_MIX, "--categories", _CATS, "--steps", "0"),
    _c("mix-steps-negative", *_MIX, "--categories", _CATS, "--steps", "-10"),
    _c("mix-max-bytes-not-a-size", *_MIX, "--categories", _CATS, "--max-bytes", "abc"),
    _c("mix-max-bytes-0", *_MIX, "--categories", _CATS, "--max-bytes", "0"),
    _c("mix-categories-typo", *_MIX, "--categories", "flores:eng_Latn,xxx_Latn"),
    _c("mix-empty-language-name", *_MIX, "--categories", "flores:eng_Latn,,deu_Latn", "--steps", "200"),
    _c("mix-out-is-a-file", *_MIX, "--categories", _CATS, "--steps", "200", "--out", "{tmp}/afile.txt"),
    _c("mix-solver-typo", *_MIX, "--categories", _CATS, "--solver", "higs"),
    _c("mix-bootstrap-negative", *_MIX, "--categories", _CATS, "--bootstrap", "-1"),
    _c("mix-time-limit-0", *_MIX, "--categories", _CATS, "--time-limit", "0"),
    _c("mix-skip-merges-typo", *_MIX, "--categories", _CATS, "--skip-merges", "atuo"),
    _c("mix-wordpiece-has-no-merges", "attack", "mixture", "{bert}", "--categories", _CATS, "--steps", "200"),
    _c("mix-csv-is-pure", *_MIX, "--categories", _CATS, "--steps", "200", "--csv", expect=0, check="pure_csv"),
    _c("mix-one-category-said", *_MIX, "--categories", "sample:eng_Latn?max_bytes=4k", "--steps", "200",
       expect=0, check="single_category_note"),
    _c("mix-same-text-two-names", *_MIX, "--categories", "a=sample:eng_Latn?max_bytes=4k+b=sample:eng_Latn?max_bytes=4k"
       "+sample:python?max_bytes=4k", "--steps", "200", expect=0, check="identical_warning"),
    _c("mix-unwritable-cache", *_MIX, "--categories", _CATS, "--steps", "200", expect=0,
       env={"TOKBENCH_CACHE": "{tmp}/afile.txt/cache"}, check="one_cache_warning"),
    _c("mix-truncated-cache", *_MIX, "--categories", _CATS, "--steps", "200", expect=0, setup="truncated_traces",
       check="one_cache_warning", slow=True),
    _c("ctl-trials-0", "attack", "controlled", "--trials", "0"),
    _c("ctl-setting-typo", "attack", "controlled", "--setting", "lang55", "--trials", "1"),
    _c("ctl-out-is-a-file", "attack", "controlled", "--trials", "1", "--out", "{tmp}/afile.txt"),
    _c("ctl-count-bytes-typo", "attack", "controlled", "--count-bytes", "1x", "--trials", "1"),
    _c("ctl-steps-0", "attack", "controlled", "--steps", "0", "--trials", "1"),
    _c("attack-no-kind", "attack"),
]

_AUDIT = ("audit", "{gpt2}", "--corpus", "sample:eng_Latn?max_bytes=2k", "--no-pdf", "--quiet")

AUDIT = [
    _c("audit-out-is-a-file", *_AUDIT, "--out", "{tmp}/afile.txt"),
    _c("audit-out-under-a-file", *_AUDIT, "--out", "{tmp}/afile.txt/report"),
    _c("audit-analysis-typo", *_AUDIT, "--analyses", "compresion", "--out", "{tmp}/rep"),
    _c("audit-empty-language-name", *_AUDIT, "--languages", "eng_Latn,,fra_Latn", "--out", "{tmp}/rep"),
    _c("audit-corpus-typo", *_AUDIT[:2], "--corpus", "flores:xxx_Latn", "--no-pdf", "--quiet", "--out", "{tmp}/rep"),
    _c("audit-tokenizer-garbage-reported", "audit", "{tmp}/garbage.json", "--corpus", "sample:eng_Latn?max_bytes=2k",
       "--analyses", "compression", "--no-pdf", "--quiet", "--out", "{tmp}/rep", expect=1, check="report_written",
       slow=True),
    _c("audit-bootstrap-negative", *_AUDIT, "--bootstrap", "-1", "--out", "{tmp}/rep"),
    _c("audit-tokenizer-missing-reported", "audit", "{tmp}/nope.json", "--corpus", "sample:eng_Latn?max_bytes=2k",
       "--analyses", "compression", "--no-pdf", "--quiet", "--out", "{tmp}/rep", expect=1, check="report_written",
       slow=True),
    _c("audit-planted-pickle-not-run", *_AUDIT, "--analyses", "compression", "--out", "{tmp}/rep", expect=0,
       setup="planted_pickle", check="pickle_not_run", slow=True),
    _c("demo-vocab-too-small", "demo", "--vocab-size", "10", "--out", "{tmp}/demo"),
    _c("demo-out-is-a-file", "demo", "--out", "{tmp}/afile.txt", "--trainers", "bpe"),
]

COMPARE = [
    _c("compare-one-tokenizer", "compare", "{gpt2}"),
    _c("compare-second-missing", "compare", "{gpt2}", "{tmp}/nope.json"),
    _c("compare-garbage-json", "compare", "{gpt2}", "{tmp}/garbage.json"),
    _c("compare-corpus-typo", "compare", "{gpt2}", "{cl100k}", "--corpus", "flores:xxx_Latn"),
    _c("compare-corpus-empty-file", "compare", "{gpt2}", "{cl100k}", "--corpus", "{tmp}/empty.txt"),
    _c("compare-out-is-a-file", "compare", "{gpt2}", "{cl100k}", "--out", "{tmp}/afile.txt"),
    _c("compare-out-under-a-file", "compare", "{gpt2}", "{cl100k}", "--out", "{tmp}/afile.txt/x"),
    _c("compare-max-bytes-typo", "compare", "{gpt2}", "{cl100k}", "--max-bytes", "lots"),
    _c("compare-min-prefix-zero", "compare", "{gpt2}", "{cl100k}", "--min-prefix", "0"),
    _c("compare-wordpiece-has-no-merges", "compare", "{gpt2}", "{bert}", expect=0),
]

GENERAL = [
    _c("no-command"),
    _c("command-typo", "trian"),
    _c("python-m-tokbench-error", "info", "{tmp}/nope.json", mode="subprocess", timeout=30),
    _c("sigterm-train-leaves-nothing", "train", "--corpus", "flores:all@dev", "--vocab-size", "20000",
       "-o", "{tmp}/big.json", "--trace", "{tmp}/big.csv", "--no-progress", mode="sigterm", expect=143,
       check="nothing_written", slow=True, timeout=60),
    _c("sigint-train-leaves-nothing", "train", "--corpus", "flores:all@dev", "--vocab-size", "20000",
       "-o", "{tmp}/big.json", "--no-progress", mode="sigint", expect=130, check="nothing_written",
       slow=True, timeout=60),
]

#: Output paths are checked before the work (DESIGN.md convention 12): a bad one must fail within
#: seconds, not after the analysis (coverage took 25 s, the demo minutes, before saying so).
_OUTPUT_PATH_CASES = ("out-is", "out-under", "trace-is", "table-is", "figures-is", "out-existing-folder")
FAST_FAILURE_SECONDS = 8.0

CLI_CASES: list[Case] = [
    replace(c, within=FAST_FAILURE_SECONDS) if any(k in c.id for k in _OUTPUT_PATH_CASES) else c
    for c in [*INFO, *ENCODE, *COVERAGE, *PREMIUMS, *OPTIMAL_VOCAB, *TRAIN, *TRAINERS_EXPERIMENT, *CHARBENCH,
              *MERGEFREE, *ATTACK, *AUDIT, *COMPARE, *GENERAL]
]

API_CASES: list[ApiCase] = [
    ApiCase("api-load-corpus-typo", "load_corpus('flores:xxx_Latn')"),
    ApiCase("api-load-corpus-empty-name", "load_corpus('flores:eng_Latn,,deu_Latn')"),
    ApiCase("api-load-corpus-trailing-comma", "load_corpus('sample:eng_Latn,')"),
    ApiCase("api-load-corpus-none", "load_corpus(None)"),
    ApiCase("api-load-corpus-int", "load_corpus(123)"),
    ApiCase("api-load-corpus-empty", "load_corpus('')"),
    ApiCase("api-load-corpus-code-typo", "load_corpus('code:cobol')"),
    ApiCase("api-load-corpus-empty-file", "load_corpus(str(tmp / 'empty.txt'))"),
    ApiCase("api-load-corpus-binary", "load_corpus(str(tmp / 'binary.bin'))"),
    ApiCase("api-load-corpus-max-bytes-0", "load_corpus('sample:eng_Latn?max_bytes=0')"),
    ApiCase("api-load-corpus-max-documents-0", "load_corpus('hf:json?data_files=x.jsonl&max_documents=0')"),
    ApiCase("api-load-flores-split-typo", "load_flores('eng_Latn', split='devv')"),
    ApiCase("api-load-flores-empty-name", "load_flores('eng_Latn,,fra_Latn')"),
    ApiCase("api-with-flores-split-typo", "with_flores_split('flores:eng_Latn', 'bogus')"),
    ApiCase("api-corpus-no-categories", "Corpus('x', {})"),
    ApiCase("api-corpus-empty-category", "Corpus('x', {'a': []})"),
    ApiCase("api-corpus-not-text", "Corpus('x', {'a': [1]})"),
    ApiCase("api-atomic-write-to-folder", "atomic_write_text(tmp / 'adir', 'x')"),
    ApiCase("api-write-csv-rows-to-folder", "write_csv_rows(tmp / 'adir', [{'a': 1}])"),
    ApiCase("api-cache-unwritable-best-effort", "cache_store(tmp / 'afile.txt' / 'c')", expect="ok"),
    ApiCase("api-mixture-steps-0", "run_mixture_attack(gpt2, load_corpus('sample:eng_Latn,python?max_bytes=3k'), "
            "n_steps=0)"),
    ApiCase("api-mixture-one-category-noted", "run_mixture_attack(gpt2, load_corpus('sample:eng_Latn?max_bytes=3k'), "
            "n_steps=100, use_cache=False).notes", expect="ok", check="note_by_construction"),
    ApiCase("api-executor-jobs-0", "executor_map(abs, [1, -2], jobs=0)"),
    ApiCase("api-executor-jobs-negative", "executor_map(abs, [1, -2], jobs=-3)"),
    ApiCase("api-executor-map-ok", "executor_map(abs, [1, -2], jobs=1)", expect="ok", check="abs_values"),
    ApiCase("api-hf-offline", "load_hf_dataset('tokbench-no-such-user/no-such-dataset')", slow=True),
]
