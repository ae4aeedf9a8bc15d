"""Fonts for the PDF report: Noto families found on this machine, chosen per report so that
every script in it is drawn with real glyphs, and the characters no font covers listed.

Discovery walks the system's font folders (the ones matplotlib knows for each OS, and the
user's) for Noto fonts, plus matplotlib's own DejaVu Sans, which is always installed. :func:`plan_fonts` then picks, for the characters a report actually holds,
a base font (Noto Sans, else DejaVu Sans), its bold face, and the fewest fallback fonts that
cover the rest: the script families FLORES-200 needs first (Thai, Myanmar, Devanagari, ...,
CJK from its ``.ttc`` collection), then any other Noto font, then DejaVu Sans. Coverage is
read from each font's cmap with fontTools (an fpdf2 dependency) and cached for the process.

Install the fonts on Debian/Ubuntu with ``apt-get install fonts-noto-core fonts-noto-cjk``
(about 130 MB installed; ``fonts-noto-core`` alone covers every FLORES script but Han, kana and
Hangul). Without them the report falls back to DejaVu Sans and prints ``U+XXXX`` for what it
lacks.

Example:
    >>> plan = plan_fonts("tokens: abc")
    >>> plan.regular.name in ("NotoSans", "DejaVuSans"), plan.missing("abc")
    (True, [])
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FontFace", "FontPlan", "plan_fonts", "system_fonts", "SCRIPT_FAMILIES"]

#: Preferred fallbacks, in order: the scripts of FLORES-200 and of real vocabularies, then
#: symbols. A family missing on the machine is skipped; anything still uncovered is looked up
#: in every other Noto font found.
SCRIPT_FAMILIES = (
    "NotoSansThai", "NotoSansMyanmar", "NotoSansDevanagari", "NotoSansBengali", "NotoSansTamil",
    "NotoSansTelugu", "NotoSansGujarati", "NotoSansGurmukhi", "NotoSansKannada", "NotoSansMalayalam",
    "NotoSansSinhala", "NotoSansOriya", "NotoSansArabic", "NotoNaskhArabic", "NotoSansHebrew",
    "NotoSansEthiopic", "NotoSansGeorgian", "NotoSansArmenian", "NotoSansKhmer", "NotoSansLao",
    "NotoSansTibetan", "NotoSerifTibetan", "NotoSansOlChiki", "NotoSansTifinagh", "NotoSansCJK",
    "NotoSansSymbols", "NotoSansSymbols2", "NotoSansMath",
)
#: the CJK collection's faces differ only in regional glyph forms; Simplified Chinese first
_CJK_FACE_ORDER = (" SC", " JP", " TC", " KR", " HK")
#: characters that are layout, not glyphs (never shown as code points)
_LAYOUT = frozenset("\n\r\t")


@dataclass(frozen=True)
class FontFace:
    """One font file (``index``: the face inside a ``.ttc`` collection, -1 while not chosen)
    and the fpdf2 family name it is registered under."""

    name: str
    path: str
    index: int = 0

    def codepoints(self) -> frozenset[int]:
        """The code points this face has glyphs for (read once per process; the faces of a
        collection, index -1 until one is chosen, share their coverage)."""
        return _cmap(self.path, max(self.index, 0))


@dataclass
class FontPlan:
    """The fonts one report is drawn with: ``regular`` and ``bold`` base faces and the
    ``fallbacks`` used, in order, for characters the base lacks."""

    regular: FontFace
    bold: FontFace
    fallbacks: list[FontFace] = field(default_factory=list)

    @functools.cached_property
    def covered(self) -> frozenset[int]:
        """Every code point some registered face draws."""
        out = set(self.regular.codepoints())
        for face in self.fallbacks:
            out |= face.codepoints()
        return frozenset(out) | {ord(c) for c in _LAYOUT}

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` no registered face draws (shown as ``U+XXXX``)."""
        covered = self.covered
        return sorted({c for c in text if ord(c) not in covered})


@functools.cache
def _cmap(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=index) as font:
            return frozenset((font.getBestCmap() or {}).keys())
    except Exception:  # noqa: BLE001 — a damaged system font is skipped, not fatal
        return frozenset()


def _dejavu() -> tuple[FontFace, FontFace]:
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return (FontFace("DejaVuSans", str(base / "DejaVuSans.ttf")),
            FontFace("DejaVuSansB", str(base / "DejaVuSans-Bold.ttf")))


def _cjk_face(path: str) -> int:
    """The index of the Simplified Chinese face in a Noto CJK collection (0 if unnamed)."""
    from fontTools.ttLib import TTCollection

    try:
        with TTCollection(path, lazy=True) as collection:
            names = [str(f["name"].getDebugName(4) or "") for f in collection.fonts]
    except Exception:  # noqa: BLE001 — an unreadable collection is left to the next candidate
        return 0
    for suffix in _CJK_FACE_ORDER:
        for i, name in enumerate(names):
            if name.endswith(suffix) and "Mono" not in name:
                return i
    return 0


@functools.cache
def system_fonts() -> dict[str, FontFace]:
    """Noto fonts on this machine by family stem (``NotoSansThai``, ``NotoSans-Bold`` is
    ``NotoSansB``), regular faces only except the base's bold; plus ``DejaVuSans``(``B``).

    ``TOKBENCH_NO_SYSTEM_FONTS=1`` hides the system fonts (to check the fallback path).
    """
    regular, bold = _dejavu()
    found: dict[str, FontFace] = {regular.name: regular, bold.name: bold}
    if os.environ.get("TOKBENCH_NO_SYSTEM_FONTS"):
        return found
    for path in sorted(_noto_files()):
        stem = Path(path).stem
        if "-" not in stem:
            continue
        family, style = stem.split("-", 1)
        if style == "Bold" and family == "NotoSans":
            found["NotoSansB"] = FontFace("NotoSansB", path)
        elif style == "Regular" and family not in found:
            # a collection's face is chosen when it is used (reading its names takes a while)
            found[family] = FontFace(family, path, -1 if path.lower().endswith((".ttc", ".otc")) else 0)
    return found


def _noto_files() -> list[str]:
    """``Noto*`` font files in the system's font folders (matplotlib's list of them per OS, and
    the user's), found by walking them: faster than asking fontconfig for every font."""
    from matplotlib import font_manager

    folders = [*font_manager.X11FontDirectories, *font_manager.OSXFontDirectories,
               os.path.join(os.environ.get("WINDIR", "C:\\Windows"), "Fonts"),
               os.path.expanduser("~/.local/share/fonts"), os.path.expanduser("~/.fonts")]
    found = []
    for folder in dict.fromkeys(folders):
        for root, _dirs, files in os.walk(folder):
            found += [os.path.join(root, f) for f in files
                      if f.startswith("Noto") and f.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))]
    return found


def _candidates(fonts: dict[str, FontFace]) -> list[FontFace]:
    """Fallback candidates in preference order (see :data:`SCRIPT_FAMILIES`)."""
    preferred = [fonts[f] for f in SCRIPT_FAMILIES if f in fonts]
    # Sans before Serif, plain before UI/Display/Looped variants: the closest match to the base.
    def rank(name: str) -> tuple[int, str]:
        return (("Serif" in name) + 2 * any(v in name for v in ("UI", "Display", "Looped", "Mono")), name)

    others = sorted((f for n, f in fonts.items() if n.startswith("Noto") and n not in SCRIPT_FAMILIES
                     and n not in ("NotoSans", "NotoSansB")), key=lambda f: rank(f.name))
    return preferred + others + [fonts["DejaVuSans"]]


def plan_fonts(text: str) -> FontPlan:
    """The base faces and the fallbacks needed to draw ``text`` (all of a report's text).

    Fallbacks are added greedily in preference order, each only when it draws a character
    nothing before it does, so a Latin-only report embeds one or two fonts.
    """
    fonts = system_fonts()
    if "NotoSans" in fonts and "NotoSansB" in fonts:
        plan = FontPlan(fonts["NotoSans"], fonts["NotoSansB"])
    else:
        plan = FontPlan(fonts["DejaVuSans"], fonts["DejaVuSansB"])
    need = {ord(c) for c in set(text)} - plan.regular.codepoints() - {ord(c) for c in _LAYOUT}
    for face in _candidates(fonts):
        if not need:
            break
        if face == plan.regular:
            continue
        gained = need & face.codepoints()
        if gained:
            if face.index < 0:
                face = FontFace(face.name, face.path, _cjk_face(face.path))
            plan.fallbacks.append(face)
            need -= gained
    return plan
