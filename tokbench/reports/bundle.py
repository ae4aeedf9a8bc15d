"""Write a result bundle: one CSV per frame, ``signature.json`` and one PNG per figure, atomically.

Commands that save a result to a folder (``attack``, ``mergefree``, ``charbench score``,
``optimal-vocab``) all write the same shape, so a reader (or a script) finds every run's tables,
figures and signature in the same places. Each file is written through
:func:`tokbench._io.atomic_write`, so an interrupted run never leaves a half-written file.

``signature.json`` holds ``{"signature": Signature.to_dict()}`` (or ``{"signatures": {name:
Signature.to_dict()}}`` for one result per tokenizer) plus the keys of ``extra_json``.

Example:
    >>> import tempfile, pandas as pd
    >>> from tokbench.results import Signature
    >>> out = tempfile.mkdtemp()
    >>> paths = write_bundle(out, frames={"sizes": pd.DataFrame({"n": [1, 2]})},
    ...                      signature=Signature(tokenizers={"gpt2": "ab12"}))
    >>> sorted(p.name for p in paths)
    ['signature.json', 'sizes.csv']
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from ..results import Signature

__all__ = ["write_bundle", "write_json", "write_frame_csv", "save_figure_png", "signature_payload"]


def write_frame_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """``frame`` as CSV without its index, written atomically."""
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False)
    return Path(path)


def write_json(data: Any, path: str | os.PathLike[str]) -> Path:
    """``data`` as indented UTF-8 JSON (non-JSON values as ``str``), written atomically."""
    with atomic_write(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
        handle.write("\n")
    return Path(path)


def save_figure_png(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """``figure`` as a PNG, written atomically."""
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=dpi)
    return Path(path)


def signature_payload(signature: Signature | Mapping[str, Signature] | None,
                      extra_json: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What ``signature.json`` holds: the signature (or one per name) and ``extra_json``."""
    payload: dict[str, Any] = {}
    if signature is not None:
        if isinstance(signature, Mapping):
            payload["signatures"] = {name: sig.to_dict() for name, sig in signature.items()}
        else:
            payload["signature"] = signature.to_dict()
    payload.update(extra_json or {})
    return payload


def write_bundle(
    out_dir: str | os.PathLike[str],
    *,
    frames: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Figure] | None = None,
    signature: Signature | Mapping[str, Signature] | None,
    extra_json: Mapping[str, Any] | None = None,
    dpi: int = 110,
) -> list[Path]:
    """Write ``<name>.csv`` per frame, ``signature.json`` and ``<name>.png`` per figure.

    Names are file stems (``"mixture"`` -> ``mixture.csv``); a name that already ends in
    ``.csv`` / ``.png`` is kept as it is. ``signature=None`` with no ``extra_json`` writes no
    ``signature.json``. Returns the written paths in the order written.
    """
    out = Path(out_dir)
    written = [write_frame_csv(frame, out / _with_suffix(name, ".csv")) for name, frame in frames.items()]
    if signature is not None or extra_json:
        written.append(write_json(signature_payload(signature, extra_json), out / "signature.json"))
    for name, figure in (figures or {}).items():
        written.append(save_figure_png(figure, out / _with_suffix(name, ".png"), dpi=dpi))
    return written


def _with_suffix(name: str, suffix: str) -> str:
    return name if name.endswith(suffix) else name + suffix
