"""Language names: FLORES-200 codes and their scripts, the code languages, named language sets.

FLORES-200 names a language by an ISO 639-3 code and an ISO 15924 script (``rus_Cyrl``); the
script is what groups languages in figures, regressions and the coverage analysis. The shared
data folder holds real source code in nine programming languages (:data:`CODE_LANGUAGES`).
The named sets are the defaults of experiments that must stay comparable across runs:
:data:`LANGUAGES_30` (the controlled mixture settings, after Hayase et al. 2024) and
:data:`ATTACK_LANGUAGES` (the 35 candidates of the off-the-shelf mixture attack).
:func:`resolve_names` checks a requested list against the valid names and suggests the closest.

Example:
    >>> is_flores_code("rus_Cyrl"), script_of("rus_Cyrl"), script_of("python")
    (True, 'Cyrl', 'other')
    >>> len(LANGUAGES_30), ATTACK_LANGUAGES[:30] == LANGUAGES_30
    (30, True)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from ..errors import CorpusError, UnknownLanguageError
from .corpus import check_unique_names, split_names

__all__ = [
    "ATTACK_LANGUAGES",
    "CODE_LANGUAGES",
    "FLORES_CODE",
    "LANGUAGES_30",
    "is_flores_code",
    "resolve_names",
    "script_of",
]

#: A FLORES-200 code, ``xxx_Scrp``; group 1 is the ISO 15924 script. Use ``.match`` or
#: :func:`is_flores_code`.
FLORES_CODE = re.compile(r"^[a-z]{3}_([A-Z][a-z]{3})$")

#: The programming languages of the shared code folder (``code/<language>.jsonl``).
CODE_LANGUAGES: tuple[str, ...] = (
    "python", "c", "c_header", "cpp", "javascript", "perl", "php", "tcl", "shell",
)  # fmt: skip

#: Thirty FLORES-200 languages over 14 scripts, high-resource first: the controlled mixture
#: settings take the first 5, 10 or all 30.
LANGUAGES_30: tuple[str, ...] = (
    "eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "ita_Latn", "por_Latn", "nld_Latn",
    "pol_Latn", "ces_Latn", "swe_Latn", "fin_Latn", "hun_Latn", "ron_Latn", "tur_Latn",
    "vie_Latn", "ind_Latn", "rus_Cyrl", "ukr_Cyrl", "bul_Cyrl", "ell_Grek", "arb_Arab",
    "pes_Arab", "heb_Hebr", "hin_Deva", "ben_Beng", "tha_Thai", "zho_Hans", "jpn_Jpan",
    "kor_Hang", "tam_Taml",
)  # fmt: skip

#: The candidate languages of the off-the-shelf mixture attack: :data:`LANGUAGES_30` and five more.
ATTACK_LANGUAGES: tuple[str, ...] = LANGUAGES_30 + (
    "dan_Latn", "cat_Latn", "kat_Geor", "swh_Latn", "urd_Arab",
)  # fmt: skip


def is_flores_code(name: str) -> bool:
    """Whether ``name`` is a whole FLORES-200 code such as ``eng_Latn``."""
    return FLORES_CODE.fullmatch(name) is not None


def script_of(category: str) -> str:
    """The ISO 15924 script of a FLORES code (``rus_Cyrl`` -> ``Cyrl``), else ``"other"``.

    Example:
        >>> script_of("hin_Deva"), script_of("python")
        ('Deva', 'other')
    """
    m = FLORES_CODE.match(str(category))
    return m.group(1) if m else "other"


def resolve_names(
    requested: str | Sequence[str], valid: list[str], *, what: str, hint: str
) -> list[str]:
    """Requested names (``"all"``, ``"a,b"`` or a list) checked against ``valid``, in request order.

    An unknown name raises :class:`~tokbench.errors.UnknownLanguageError` with the closest
    valid names.

    Example:
        >>> resolve_names("b, a", ["a", "b", "c"], what="letter", hint="a to c")
        ['b', 'a']
    """
    if isinstance(requested, str) and requested.strip() in ("all", "*"):
        return list(valid)
    names = split_names(requested, allow_empty=False)
    if not names:
        raise CorpusError(f"no {what} given; name at least one, or 'all'")
    check_unique_names(names, where=f"{what} list", hint="list each once")
    valid_set = set(valid)
    for name in names:
        if name not in valid_set:
            raise UnknownLanguageError(_unknown_message(name, valid, what=what, hint=hint))
    return names


def _unknown_message(name: str, valid: list[str], *, what: str, hint: str) -> str:
    lowered = {v.lower(): v for v in valid}
    key = name.lower()
    # Case slips ("eng_latn") and bare ISO codes ("eng") are the usual mistakes; difflib alone
    # ranks them below look-alike codes, so they go first.
    close = [v for v in valid if v.lower() == key]
    close += [v for v in valid if v.lower().split("_")[0] == key or v.lower().startswith(key)]
    close += [lowered[m] for m in difflib.get_close_matches(key, list(lowered), n=5, cutoff=0.5)]
    close = list(dict.fromkeys(close))[:5]
    if close:
        suggestion = f"closest valid codes: {', '.join(close)}"
    else:
        suggestion = (
            f"valid codes include: {', '.join(valid[:8])}{', ...' if len(valid) > 8 else ''}"
        )
    return f"unknown {what} {name!r}; {suggestion} ({hint})"
