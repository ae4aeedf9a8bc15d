"""Exact unreachable-token detection: can any text make a BPE tokenizer output this token?

``unreachable(tokenizer)`` puts every id of a tokenizer with a merge list (byte-level BPE: GPT-2,
r50k, cl100k, OLMo 2, Qwen 2, GPT-NeoX; SentencePiece-style BPE: Llama, Mistral) in one class:

* ``reachable_alone`` — encoding the token's own text gives exactly ``[token]`` (for models
  that prepend ``▁``, the text without its leading space, which the dummy prefix supplies);
* ``reachable_in_context`` — produced inside some longer text, kept as the ``witness`` (after
  a space, inside a longer pretoken, with the partial characters of its bytes completed, or,
  for ``<0xNN>`` pieces, as byte fallback of a character that is not a piece);
* ``special`` — special/added tokens (matched verbatim, never built by merges);
* ``unreachable_merges`` — BPE on the token's own bytes does not end at the token: the merges
  that would build it are shadowed by earlier ones. *Proven* by the argument below;
* ``unreachable_pretokenizer`` — its bytes BPE-merge to it alone, but the normalizer or the split
  pattern never yields those bytes inside one piece. *Proven* by :mod:`.pieces` (NFC rules; the
  token is not a factor of any alternative of the split pattern);
* ``unreachable_byte_fallback`` — a ``<0xNN>`` piece whose byte only occurs in characters that
  are pieces themselves (e.g. ASCII letters), so byte fallback never emits it;
* ``undecodable`` — its bytes occur in no valid UTF-8 text (0xC0, 0xC1, 0xF5..0xFF, a lead byte
  followed by a wrong byte, four continuation bytes in a row...): *proven*, see :mod:`.utf8`;
* ``unresolved`` — none of the above was proven and no witness was found among the candidate
  texts (:mod:`.witness`); reported, never silently counted as reachable or unreachable;
* ``unused`` — ids without a token (cl100k's gaps).

Reachable classes are *demonstrated*: the reference library (``tokenizers``, ``tiktoken``,
``sentencepiece``) output the token on the witness text. Magikarp (Land & Bartolo 2024) only
re-encodes the decoded token, which calls every ``reachable_in_context`` token unreachable
(their issue #13: a Llama 3 token that appears only after a space); here a token is unreachable
only when proven so.

**Why context never helps against shadowed merges.** Take BPE with a fixed priority per pair
(HF ``tokenizers``: the pair's merge rank; tiktoken: the rank of the concatenated bytes;
SentencePiece: the score of the concatenated piece, higher first), applying the best pair
first and the leftmost among equal priorities (HF ``word.rs`` ``merge_all`` orders its heap by
rank then position; tiktoken's ``byte_pair_merge`` takes the first minimum; SentencePiece's
``bpe_model.cc`` agenda orders by score then left position). Run it on a pretoken ``w`` and
suppose a final token ``t`` covers exactly the span ``b`` of ``w``. No merge ever crossed an
edge of ``b`` (symbols only grow, so a crossing symbol would still cross at the end). So the
merges inside ``b`` form their own sequence, and between two of them only merges outside ``b``
happen, which leave the inside symbols untouched. Each inside merge was the best pair of the
whole word, hence the best (and leftmost best) among the inside pairs alone, which are exactly
the pairs BPE sees when run on ``b`` by itself. By induction BPE on ``b`` alone makes the same
merges in the same order and ends at ``[t]``. Contrapositive: if BPE on the token's own bytes
does not end at ``[t]``, no text produces ``t`` — context can only consume the span's edge
symbols, never change the order inside. Where the argument needs care:

* *dropout* (HF ``dropout``, SentencePiece sampling) makes merges random; every shared file has
  it off and the reference encoders run deterministically;
* *whole-pretoken shortcut*: tiktoken outputs a pretoken that is itself a token without running
  BPE, and so does HF BPE with ``ignore_merges``; such a token is reachable when its text can be
  one whole pretoken, so for these families a blocked token is still searched (own text first);
  for tiktoken the merge list is recovered from the ranks by BPE itself, so no token is blocked;
* *SentencePiece*: only normal and user-defined pieces merge (byte pieces never do), unused
  pieces are re-split, and user-defined pieces are matched first; the priority is the piece
  score, a function of the merged string, so the argument holds for the score order (HF's Llama
  conversion lists several merges per token, each with its own rank: still a fixed priority per
  pair);
* every witness and every counterexample is checked with the reference library, and a witness
  for a token the argument calls blocked is reported in ``notes`` (none on the shared files).

Example:
    >>> res = unreachable(load_tokenizer("gpt2"))                   # doctest: +SKIP
    >>> res.counts_frame()[["class", "tokens"]]                     # doctest: +SKIP
"""

from .core import check_tokenizer, unreachable
from .result import CLASSES, REACHABLE, UNREACHABLE, TokenVerdict, UnreachableResult, counts_table

__all__ = ["unreachable", "check_tokenizer", "UnreachableResult", "TokenVerdict", "CLASSES", "REACHABLE", "UNREACHABLE", "counts_table"]
