"""The built-in templates run end to end offline, for real: `article` and `campaign` on the
embedded chat model (local:smollm2-135m), the offline image model (local:illustrator) and
Real-ESRGAN, on SQLite and PostgreSQL. Sizes and lengths are small to keep the tests quick;
the tiny chat model rarely writes a clean list, so the templates' padding is part of what
is tested (every run still gets its N sections / N images).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from PIL import Image

from easel.config import Settings
from easel.storage.workflows import RunRecord
from easel.studio import open_studio
from easel.workflows.bundle import build_bundle

OWNER = "acct_local"


async def _run(home: Path, database_url: str, name: str, inputs: dict[str, object],
               models: dict[str, str] | None = None) -> tuple[RunRecord, bytes, list[tuple[int, int]]]:
    settings = Settings(home=home, database_url=database_url)
    async with open_studio(settings) as services:
        run = await services.workflows.start_run(owner_id=OWNER, name=name, inputs=inputs, models=models)
        assert run.job_id is not None
        await services.jobs.wait(owner_id=OWNER, job_id=run.job_id, timeout=240)
        run = await services.workflows.get_run(owner_id=OWNER, run_id=run.id)
        bundle = await build_bundle(run, assets=services.assets)
        sizes = []
        for asset_id in run.assets:
            asset = await services.assets.get(owner_id=OWNER, asset_id=asset_id)
            sizes.append((asset.width or 0, asset.height or 0))
    return run, bundle, sizes


async def test_article_runs_offline_with_one_section_per_outline_item(tmp_path: Path, database_url: str) -> None:
    run, bundle, _ = await _run(tmp_path, database_url, "article",
                                {"topic": "tide pools", "sections": 2, "length": 40})
    assert run.status == "succeeded", run.error
    outline, sections, article = run.steps
    titles = outline.output["json"]
    assert len(titles) == 2 and all(isinstance(t, str) and t for t in titles)
    assert [i.index for i in sections.items] == [0, 1]
    assert [i.output["item"] for i in sections.items] == titles
    assert all(i.model == "local:smollm2-135m" and i.output["text"] for i in sections.items)
    assert run.markdown is not None and run.markdown.startswith("# tide pools")
    positions = [run.markdown.index(f"## {title}") for title in titles]
    assert positions == sorted(positions)
    assert run.assets == [article.output["document"]]  # the article, stored as a document asset
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    assert set(archive.namelist()) == {"article.md", "workflow.yaml", "run.json"}
    record = json.loads(archive.read("run.json"))
    assert [s["id"] for s in record["steps"]] == ["outline", "sections", "article"]
    assert "tide pools" in record["steps"][0]["prompt"] and record["steps"][0]["usage"]["completion_tokens"] > 0


async def test_campaign_runs_offline_images_and_upscale_in_the_bundle(tmp_path: Path, database_url: str) -> None:
    run, bundle, sizes = await _run(
        tmp_path, database_url, "campaign",
        {"product": "oat milk", "audience": "runners", "count": 2, "aspect_ratio": "16:9", "image_size": 128,
         "length": 32},
        models={"best": "local:realesrgan-fast-x4"})
    assert run.status == "succeeded", run.error
    steps = {s.step_id: s for s in run.steps}
    assert len(steps["prompts"].output["json"]) == 2
    pictures = steps["images"].output["assets"]
    assert len(pictures) == 2 and [len(i.output["assets"]) for i in steps["images"].items] == [1, 1]
    hero = steps["best"].output["assets"]
    assert len(hero) == 1 and steps["best"].model == "local:realesrgan-fast-x4"
    assert run.assets == [*pictures, *hero, steps["report"].output["document"]]  # the report is an asset too
    assert sizes[0] == (128, 64) and sizes[1] == (128, 64)  # 16:9 at a 128 px long side
    assert sizes[2] == (256, 128)  # the chosen one, upscaled x2
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    names = set(archive.namelist())
    assert {"campaign.md", "workflow.yaml", "run.json"} <= names
    markdown = archive.read("campaign.md").decode()
    for asset_id in pictures + hero:
        assert f"images/{asset_id}.png" in names and f"(images/{asset_id}.png)" in markdown
        with Image.open(io.BytesIO(archive.read(f"images/{asset_id}.png"))) as picture:
            picture.verify()
