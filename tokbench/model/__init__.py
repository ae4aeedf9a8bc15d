"""The tokenizer model layer: the ``Tokenizer`` and everything that encodes with it.

Modules follow the stages of HF ``tokenizers``' pipeline (normalizer → pre-tokenizer → model →
decoder), plus the pieces that let one model stand for files of every format:

============================  ==================================================================
module                        stage / job
============================  ==================================================================
:mod:`.tokenizer`             the ``Tokenizer`` every layer uses: vocabulary as bytes, merges,
                              special tokens, ``encode``/``decode`` by reference or native backend
:mod:`.normalizers`           normalizer stage (NFC/NFKC, Lowercase, Prepend, Replace, Strip, BERT)
:mod:`.pretokenizers`         pre-tokenizer stage (regex Split, ByteLevel prefix, BERT, Metaspace,
                              SentencePiece words)
:mod:`.patterns`              the named split regexes (``r50k``, ``cl100k``, ``o200k``, ``llama3``)
:mod:`.bpe`                   model stage, BPE: *applies* merges to one pretoken at encode time
                              (learning them is :mod:`tokbench.trainers.bpe`)
:mod:`.merges`                recovers a merge list from ranks or scores (tiktoken, SentencePiece)
:mod:`.bytelevel`             GPT-2's byte ↔ unicode table (the ByteLevel pre-tokenizer/decoder)
:mod:`.encoders`              native end-to-end encoders: byte-level BPE, character BPE with byte
                              fallback, WordPiece (added tokens → normalizer → pieces → model)
:mod:`.hybrid`                the morphology-hybrid model (lexicon + byte-level BPE fallback)
:mod:`.references`            adapters over the ground-truth libraries (tokenizers, tiktoken,
                              sentencepiece)
============================  ==================================================================

Reading and writing files is :mod:`tokbench.formats`; this layer imports no other layer.

Example:
    >>> from tokbench.model.bpe import apply_merges, merge_rank_lookup
    >>> apply_merges([0, 1, 2], merge_rank_lookup([(0, 1)], first_new_id=3))
    [3, 2]
"""
