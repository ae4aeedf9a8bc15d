"""SentencePiece's normalizer: the precompiled character map, then its whitespace rules.

A SentencePiece model built with a normalization rule (``nmt_nfkc``, ``nfkc_cf``, ...) stores the
rule compiled into ``normalizer_spec.precompiled_charsmap``: a little-endian uint32 byte size of a
Darts double-array trie, the trie's uint32 units, then NUL-terminated replacement strings. The
trie maps UTF-8 byte sequences to an offset into those strings. ``sentencepiece``'s
``normalizer.cc`` walks the text: at each point a user-defined piece is copied as is, else the
longest trie key is replaced by its string, else one character is copied. Spaces are then
handled as the spec says (drop leading/trailing and repeated spaces, prepend a dummy space,
escape spaces as ``▁``). The identity rule has no map and only the whitespace step.

HF's ``Precompiled`` normalizer reads the same blob but walks grapheme clusters; this module is
sentencepiece's walk (see :mod:`tokbench.model.normalizers` for HF's stages). The walk runs in a
numba kernel over the trie's own arrays (:func:`tokbench.model._kernels.sp_normalize`), so a
model's 225,276 ``nmt_nfkc`` rules are never parsed for sentencepiece's walk; they are parsed
(:func:`parse_charsmap`) only for HF's walk or a map given as rules.

Example:
    >>> SentencePieceNormalizer(charsmap=None).normalize("  Hello   world ")
    '▁Hello▁world'
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from ..errors import TokbenchError

__all__ = ["parse_charsmap", "split_charsmap", "CharsMap", "SentencePieceNormalizer", "HFPrecompiled"]

SPACE_MARK = "\u2581"


def _trie_keys(units: Any) -> tuple[list[bytes], list[int]]:
    """Every key of a Darts double-array trie with its value, breadth first.

    A unit's offset is ``(u >> 10) << ((u & 512) >> 6)``, its leaf flag bit 8; a child with
    label ``c`` sits at ``pos ^ offset ^ c`` and its unit's label (low byte plus bit 31, which
    leaves set so they never match) must equal ``c``; a leaf's value sits at ``pos ^ offset``.
    Children are found from the other side, for all nodes of a level at once with numpy (a
    Python loop over 255 labels per node took seconds): unit ``j`` with label ``c`` is a child of
    the node whose base is ``j ^ c``, which is the same forward check.
    """
    import numpy as np

    size = len(units)
    index = np.arange(size, dtype=np.int64)
    base = index ^ ((units >> 10) << ((units & 512) >> 6))
    has_leaf = ((units >> 8) & 1).astype(bool)
    label = units & 0x800000FF
    candidate = np.nonzero((label >= 1) & (label <= 255))[0]
    parent_base = candidate ^ label[candidate]
    order = np.argsort(parent_base, kind="stable")
    sorted_base, sorted_child = parent_base[order], candidate[order]
    keys: list[bytes] = []
    values: list[int] = []
    frontier = np.array([0], dtype=np.int64)
    frontier_keys: list[bytes] = [b""]
    while frontier.size:
        first = np.searchsorted(sorted_base, base[frontier], "left")
        counts = np.searchsorted(sorted_base, base[frontier], "right") - first
        parent = np.repeat(np.arange(frontier.size), counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        nodes = sorted_child[np.repeat(first, counts) + within]
        node_keys = [frontier_keys[p] + bytes([c]) for p, c in zip(parent.tolist(), label[nodes].tolist(), strict=True)]
        leaf = has_leaf[nodes] & (base[nodes] >= 0) & (base[nodes] < size)
        for k in np.nonzero(leaf)[0].tolist():
            keys.append(node_keys[k])
            values.append(int(units[base[nodes[k]]] & 0x7FFFFFFF))
        frontier, frontier_keys = nodes, node_keys
    return keys, values


def split_charsmap(blob: bytes) -> tuple[Any, Any]:
    """The trie units (int64) and the replacement strings (uint8) of a precompiled charsmap.

    Raises :class:`TokbenchError` when the header does not fit the blob.

    Example:
        >>> [a.size for a in split_charsmap(bytes([4, 0, 0, 0, 0, 0, 0, 0, 65, 0]))]
        [1, 2]
    """
    import numpy as np

    if len(blob) < 4:
        raise TokbenchError("precompiled_charsmap is shorter than its 4-byte header; the model is damaged")
    (trie_size,) = struct.unpack_from("<I", blob)
    if trie_size % 4 or 4 + trie_size > len(blob):
        raise TokbenchError(f"precompiled_charsmap declares a {trie_size}-byte trie in a {len(blob)}-byte blob; "
                            "the model is damaged")
    units = np.frombuffer(blob, dtype="<u4", count=trie_size // 4, offset=4).astype(np.int64)
    return units, np.frombuffer(blob, np.uint8, offset=4 + trie_size)


@lru_cache(maxsize=8)
def parse_charsmap(blob: bytes) -> dict[str, str]:
    """Every rule of a precompiled charsmap as ``{source text: replacement text}``.

    Raises :class:`TokbenchError` for a blob that is not a charsmap.

    Example:
        >>> parse_charsmap(b"")
        {}
    """
    if not blob:
        return {}
    units, _ = split_charsmap(blob)
    strings = blob[4 + 4 * units.shape[0]:]
    rules: dict[str, str] = {}
    for key, value in zip(*_trie_keys(units), strict=True):
        end = strings.find(b"\0", value)
        replacement = strings[value:end if end >= 0 else len(strings)]
        rules[key.decode("utf-8", errors="surrogateescape")] = replacement.decode("utf-8", errors="replace")
    return rules


class CharsMap:
    """Longest-match replacement by a charsmap, on whole characters.

    Built from a blob (:meth:`from_blob`), it keeps the trie as arrays for the kernels
    (:attr:`units`, :attr:`strings`) and parses ``rules`` only when something asks for them
    (HF's ``Precompiled`` walk, :meth:`match`): parsing 225,276 rules takes a third of a second,
    and sentencepiece's own walk needs none of it. Built from ``rules``, it has no arrays.
    """

    def __init__(self, rules: dict[str, str] | None = None, max_len: dict[str, int] | None = None, *,
                 blob: bytes = b""):
        self.blob = blob
        self._rules = rules
        self._max_len = max_len
        self.units, self.strings = split_charsmap(blob) if blob else (None, None)

    @classmethod
    def from_blob(cls, blob: bytes) -> CharsMap:
        """The map of a ``precompiled_charsmap``; a header that does not fit raises
        :class:`TokbenchError` here, a damaged trie when the kernel walks into it."""
        return cls(blob=blob)

    @property
    def rules(self) -> dict[str, str]:
        if self._rules is None:
            self._rules = parse_charsmap(self.blob)
        return self._rules

    @property
    def max_len(self) -> dict[str, int]:
        """Longest rule (in characters) per first character."""
        if self._max_len is None:
            max_len: dict[str, int] = {}
            for key in self.rules:
                max_len[key[0]] = max(max_len.get(key[0], 0), len(key))
            self._max_len = max_len
        return self._max_len

    def match(self, text: str, start: int) -> tuple[str, int] | None:
        """(replacement, length) of the longest rule at ``start``, or None."""
        longest = self.max_len.get(text[start])
        if longest is None:
            return None
        for length in range(min(longest, len(text) - start), 0, -1):
            replacement = self.rules.get(text[start:start + length])
            if replacement is not None:
                return replacement, length
        return None

    def shortest(self, text: str) -> str | None:
        """The replacement of the shortest rule that is a prefix of ``text`` (HF's ``transform``)."""
        longest = self.max_len.get(text[0]) if text else None
        if longest is None:
            return None
        for length in range(1, min(longest, len(text)) + 1):
            replacement = self.rules.get(text[:length])
            if replacement is not None:
                return replacement
        return None


@dataclass(frozen=True)
class HFPrecompiled:
    """HF ``tokenizers``' ``Precompiled`` normalizer: the same map, walked by grapheme cluster.

    A cluster under 6 UTF-8 bytes is replaced whole by the replacement of the shortest rule it
    starts with (the rest of the cluster is dropped, as in HF); otherwise each character is
    looked up on its own. Spaces are left to the normalizers that follow it in the file.

    Example:
        >>> HFPrecompiled(CharsMap({"\uff21": "A"}, {"\uff21": 1})).normalize("\uff21b")
        'Ab'
    """

    charsmap: CharsMap

    def normalize(self, text: str) -> str:
        import regex

        out: list[str] = []
        for cluster in regex.findall(r"\X", text):
            if len(cluster.encode("utf-8", errors="surrogatepass")) < 6:
                whole = self.charsmap.shortest(cluster)
                if whole is not None:
                    out.append(whole)
                    continue
            for ch in cluster:
                replacement = self.charsmap.shortest(ch)
                out.append(ch if replacement is None else replacement)
        return "".join(out)

    def describe(self) -> dict[str, Any]:
        return {"type": "Precompiled", "rules": len(self.charsmap.rules)}


@dataclass(frozen=True)
class SentencePieceNormalizer:
    """sentencepiece's ``Normalizer::Normalize``: charsmap, user pieces verbatim, whitespace."""

    charsmap: CharsMap | None
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True
    user_defined: tuple[str, ...] = ()
    #: The model file, named by the error a damaged charsmap raises when the kernel meets it.
    source: str = ""

    @cached_property
    def kernel_args(self) -> tuple[Any, ...] | None:
        """The arguments of :func:`tokbench.model._kernels.sp_normalize` after the text: charsmap
        units and strings, the user-defined pieces' byte trie, the bytes no rule or user-defined
        piece starts with, the three whitespace flags. None
        for a charsmap given as rules (no trie to walk)."""
        import numpy as np

        from ._kernels import build_trie, plain_bytes

        if self.charsmap is not None and self.charsmap.units is None:
            return None
        units, strings = ((self.charsmap.units, self.charsmap.strings) if self.charsmap is not None
                          else (np.zeros(0, np.int64), np.zeros(0, np.uint8)))
        # The byte trie reuses the code-point trie: each byte is the code point of a latin-1 char.
        users = [u.encode("utf-8") for u in self.user_defined]
        ukeys, uvals, unode, _ = build_trie([u.decode("latin-1") for u in users], list(range(len(users))))
        return (units, strings, ukeys, uvals, unode, plain_bytes(units, users), self.add_dummy_prefix,
                self.remove_extra_whitespaces, self.escape_whitespaces)

    def normalize_utf8(self, data: bytes) -> bytes:
        """:meth:`normalize` on valid UTF-8, by the kernel (needs :attr:`kernel_args`)."""
        import numpy as np

        from ._kernels import DAMAGED, TOO_SMALL, sp_normalize

        text = np.frombuffer(data, np.uint8)
        capacity = 3 * len(data) + 16
        while True:
            out = np.empty(capacity, np.uint8)
            n = sp_normalize(text, *self.kernel_args, out)  # type: ignore[misc]
            if n != TOO_SMALL:
                break
            capacity *= 4
        if n == DAMAGED:
            raise self.damaged()
        return out[:n].tobytes()

    def damaged(self) -> TokbenchError:
        """The error for a charsmap whose trie points outside itself."""
        return TokbenchError(f"{self.source or 'this model'}: the precompiled_charsmap's trie points outside "
                             "itself; the model is damaged, re-download it")

    def chunks(self, text: str) -> list[str]:
        """The normalized text of each prefix sentencepiece consumes, in order."""
        out: list[str] = []
        users = sorted(self.user_defined, key=len, reverse=True)
        firsts = {u[0] for u in users}
        i = 0
        while i < len(text):
            if text[i] in firsts:
                user = next((u for u in users if text.startswith(u, i)), None)
                if user is not None:
                    out.append(user)
                    i += len(user)
                    continue
            found = self.charsmap.match(text, i) if self.charsmap is not None else None
            if found is None:
                out.append(text[i])
                i += 1
            else:
                out.append(found[0])
                i += found[1]
        return out

    def normalize(self, text: str) -> str:
        if self.charsmap is None and not self.user_defined:
            return self._whitespace_only(text)
        if self.kernel_args is not None:
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: the walk below copies them as characters
                pass
            else:
                return self.normalize_utf8(data).decode("utf-8", errors="replace")
        return self.normalize_chunks(text)

    def normalize_chunks(self, text: str) -> str:
        """:meth:`normalize` by :meth:`chunks` over the parsed rules, in Python."""
        chunks = self.chunks(text)
        k = 0
        if self.remove_extra_whitespaces:
            while k < len(chunks) and chunks[k] == " ":
                k += 1
        if k == len(chunks):
            return ""
        space = SPACE_MARK if self.escape_whitespaces else " "
        out = [space] if self.add_dummy_prefix else []
        prev_space = self.remove_extra_whitespaces
        for chunk in chunks[k:]:
            if prev_space:
                chunk = chunk.lstrip(" ")
            if chunk:
                out.append(chunk.replace(" ", space) if self.escape_whitespaces else chunk)
                prev_space = chunk.endswith(" ")
            if not self.remove_extra_whitespaces:
                prev_space = False
        normalized = "".join(out)
        # sentencepiece drops trailing spaces after escaping, so a literal ▁ at the end goes too.
        return normalized.rstrip(space) if self.remove_extra_whitespaces else normalized

    def _whitespace_only(self, text: str) -> str:
        """The same result with string methods when every chunk is one unchanged character."""
        if self.remove_extra_whitespaces:
            text = " ".join(part for part in text.split(" ") if part)
        if self.add_dummy_prefix and text:
            text = " " + text
        space = SPACE_MARK if self.escape_whitespaces else " "
        if self.escape_whitespaces:
            text = text.replace(" ", SPACE_MARK)
        return text.rstrip(space) if self.remove_extra_whitespaces else text

    def describe(self) -> dict[str, Any]:
        return {"type": "SentencePiece", "precompiled_charsmap": self.charsmap is not None,
                "add_dummy_prefix": self.add_dummy_prefix,
                "remove_extra_whitespaces": self.remove_extra_whitespaces}
