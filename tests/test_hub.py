"""`easel pull`: downloading a pipeline from a Hub-shaped server (a fake on 127.0.0.1), copying
one from a folder, and generating with what was pulled.

The fake serves the tiny random pipeline the provider tests build, with the Hub's listing
and resolve routes, its CDN redirect for weights, its error codes and Range requests.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from easel.cli_pull import run_pull_cli
from easel.config import Settings
from easel.errors import AuthenticationFailed, InvalidRequest, NotFound
from easel.hub import SOURCE_FILE, default_name, pull, select_files
from easel.providers.local_diffusers import LocalDiffusersProvider, models_dir
from easel.tasks.image import ImageRequest
from tests.fakes.hub_fake import create_app
from tests.fakes.server import serve
from tests.fakes.tiny_diffusers import StopAt, build_tiny_pipeline, pixels

REPO = "acme/tiny-sd"
GATED = "acme/gated-sd"
TOKEN = "hf_fake_token"
# What real diffusers repos also carry, and a pipeline does not load.
EXTRA = {"v1-5-pruned.safetensors": b"root checkpoint", "unet/diffusion_pytorch_model.bin": b"pickle",
         "unet/diffusion_pytorch_model.fp16.safetensors": b"half", "vae/model.onnx": b"onnx",
         "text_encoder/flax_model.msgpack": b"flax", "README.md": b"# tiny"}


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("pipelines") / "tiny")


def source_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def hub(tiny_source: Path, tmp_path: Path) -> Iterator[tuple[str, list[dict[str, object]]]]:
    app = create_app({REPO: tiny_source, GATED: tiny_source}, gated={GATED: TOKEN}, extra_files=EXTRA,
                     scratch=tmp_path / "hub-extra", drop_once=["text_encoder/model.safetensors"])
    with serve(app) as url:
        yield url, app.state.requests


def test_select_files_keeps_what_a_diffusers_pipeline_loads() -> None:
    listing = ["model_index.json", "README.md", "v1-5-pruned.safetensors", "v1-5-pruned-emaonly.ckpt",
               "scheduler/scheduler_config.json", "tokenizer/vocab.json", "tokenizer/merges.txt",
               "text_encoder/config.json", "text_encoder/model.safetensors", "text_encoder/model.fp16.safetensors",
               "text_encoder/pytorch_model.bin", "text_encoder/flax_model.msgpack",
               "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
               "unet/diffusion_pytorch_model.non_ema.safetensors", "unet/diffusion_pytorch_model.bin",
               "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors", "onnx/unet/model.onnx",
               "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
               "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
               "transformer/diffusion_pytorch_model.safetensors.index.json",
               "transformer/diffusion_pytorch_model.safetensors.index.fp16.json",
               "transformer/diffusion_pytorch_model-00001-of-00001.fp16.safetensors"]
    assert select_files(listing) == [
        "README.md", "model_index.json", "scheduler/scheduler_config.json",
        "text_encoder/config.json", "text_encoder/model.safetensors",
        "tokenizer/merges.txt", "tokenizer/vocab.json",
        "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
        "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
        "transformer/diffusion_pytorch_model.safetensors.index.json",
        "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",  # the only weights it has
    ]
    assert select_files(["model_index.json", "unet/a.bin", "unet/b.safetensors"], allow_patterns=["unet/*"]) == [
        "unet/b.safetensors"]
    assert select_files(["a.onnx", "b.json"], ignore_patterns=["b*"], all_files=True) == ["a.onnx"]


def test_default_names() -> None:
    assert default_name("stabilityai/sd-turbo") == "sd-turbo"
    assert default_name("Org/Stable Diffusion v1.5") == "stable-diffusion-v1.5"


def test_pull_downloads_what_the_pipeline_needs_and_it_generates(
        hub: tuple[str, list[dict[str, object]]], tiny_source: Path, tmp_path: Path) -> None:
    url, requests = hub
    dest = models_dir(Settings(home=tmp_path)) / "tiny-sd"
    seen: list[tuple[int, int, str]] = []
    result = pull(REPO, dest, endpoint=url, progress=lambda done, total, name: seen.append((done, total, name)))

    assert source_files(dest) == {**source_files(tiny_source), "README.md": b"# tiny",
                                  SOURCE_FILE: (dest / SOURCE_FILE).read_bytes()}
    assert not list(dest.rglob("*.part"))
    total = sum(len(v) for v in source_files(tiny_source).values()) + len(b"# tiny")
    assert seen[-1] == (total, total, "model_index.json")  # everything counted, the index written last
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:], strict=False)
               if a[2] == b[2] and a[2] != "text_encoder/model.safetensors")
    assert result.commit and result.skipped == [] and result.fetched_bytes >= total
    source = json.loads((dest / SOURCE_FILE).read_text())
    assert (source["repo_id"], source["commit"]) == (REPO, result.commit)

    paths = [str(r["path"]) for r in requests]
    assert paths[0] == f"/api/models/{REPO}/revision/main" and requests[0]["query"] == "blobs=true"
    assert any(p.startswith("/cdn/") for p in paths)  # weights came through the CDN redirect
    assert all(result.commit in p for p in paths if "/resolve/" in p)  # pinned to the listed commit
    # the dropped connection was resumed with a Range request, not started over
    assert any(r["range"] and str(r["range"]).startswith("bytes=") and r["range"] != "bytes=0-" for r in requests)

    # the pulled pipeline works, and makes the same pixels as the folder it came from
    own = LocalDiffusersProvider(Settings(home=tmp_path, local_threads=1))
    (entry,) = own.extra_models()
    assert entry.id == "local:diffusers/tiny-sd" and f"pulled from {REPO}" in (entry.description or "")
    request = ImageRequest(model=entry.id, prompt="a red cat", steps=2, seed=11)
    (image,) = asyncio.run(own.generate_images(entry, request, StopAt())).images
    direct_home = tmp_path / "direct"
    pull(str(tiny_source), models_dir(Settings(home=direct_home)) / "tiny-sd")
    other = LocalDiffusersProvider(Settings(home=direct_home, local_threads=1))
    (same,) = asyncio.run(other.generate_images(entry, request, StopAt())).images
    assert pixels(image.data) == pixels(same.data)

    again = pull(REPO, dest, endpoint=url)
    assert again.fetched_bytes == 0 and sorted(again.skipped) == sorted(again.files)


def test_an_interrupted_pull_resumes(hub: tuple[str, list[dict[str, object]]], tiny_source: Path,
                                     tmp_path: Path) -> None:
    url, requests = hub
    dest = tmp_path / "tiny"

    started: dict[str, int] = {}

    def stop_at_unet(done: int, total: int, name: str) -> None:
        # stop once the UNet's weights are in their .part file, before the rename
        if name.endswith("unet/diffusion_pytorch_model.safetensors") and done > started.setdefault(name, done):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(REPO, dest, endpoint=url, progress=stop_at_unet)
    assert not (dest / "model_index.json").exists()  # not a pipeline until everything is in
    assert [p.name for p in dest.rglob("*.part")] == ["diffusion_pytorch_model.safetensors.part"]
    requests.clear()
    result = pull(REPO, dest, endpoint=url)
    assert not list(dest.rglob("*.part"))
    assert "scheduler/scheduler_config.json" in result.skipped
    assert {k: v for k, v in source_files(dest).items() if k in source_files(tiny_source)} == source_files(tiny_source)
    assert any(r["range"] for r in requests if "unet" in str(r["path"]) or "/cdn/" in str(r["path"]))


def test_unknown_repo_revision_and_gated_repo_are_clear_errors(hub: tuple[str, list[dict[str, object]]],
                                                               tmp_path: Path) -> None:
    url, _ = hub
    with pytest.raises(NotFound) as missing:
        pull("acme/nope", tmp_path / "a", endpoint=url)
    assert missing.value.code == "repo_not_found" and "acme/nope" in missing.value.message
    with pytest.raises(NotFound) as revision:
        pull(REPO, tmp_path / "b", endpoint=url, revision="v9")
    assert revision.value.code == "revision_not_found"
    with pytest.raises(AuthenticationFailed) as gated:
        pull(GATED, tmp_path / "c", endpoint=url)
    assert "HF_TOKEN" in gated.value.message and gated.value.status_code == 401
    with pytest.raises(AuthenticationFailed) as refused:
        pull(GATED, tmp_path / "c", endpoint=url, token="hf_wrong")
    assert "HF_TOKEN" in refused.value.message
    assert (pull(GATED, tmp_path / "c", endpoint=url, token=TOKEN).dest / "model_index.json").is_file()
    with pytest.raises(InvalidRequest):
        pull("not a repo id!", tmp_path / "d", endpoint=url)


def test_pull_cli_shows_progress_and_names_the_model(hub: tuple[str, list[dict[str, object]]], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, requests = hub
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    out = io.StringIO()
    result = run_pull_cli(GATED, Settings(home=tmp_path), Console(file=out, width=120, force_terminal=False))
    assert result.dest == models_dir(Settings(home=tmp_path)) / "gated-sd"
    assert "local:diffusers/gated-sd" in out.getvalue()
    assert any(r["auth"] == f"Bearer {TOKEN}" for r in requests)
    with pytest.raises(InvalidRequest):
        run_pull_cli(GATED, Settings(home=tmp_path), Console(file=io.StringIO()), name="Bad Name")


def test_a_folder_is_copied(tiny_source: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    result = pull(str(tiny_source), tmp_path / "copy", progress=lambda done, total, name: seen.append(done))
    assert source_files(tmp_path / "copy") == {**source_files(tiny_source),
                                               SOURCE_FILE: (tmp_path / "copy" / SOURCE_FILE).read_bytes()}
    assert result.commit is None and seen[-1] == sum(len(v) for v in source_files(tiny_source).values())
