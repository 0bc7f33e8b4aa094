"""The offline illustrator (`local:illustrator`): the prompt parser, the renderer and the provider,
run for real on the installed OpenMoji artwork, with a real JobContext for progress and cancel.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import pytest
from PIL import Image

from easel.catalog.catalog import Catalog
from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.illustrator.render import Illustration, Illustrator
from easel.illustrator.scene import Scene
from easel.jobs.context import JobContext, JobStopped
from easel.providers.base import ENTRY_POINT_GROUP
from easel.providers.local_illustrator import LocalIllustratorProvider, create_providers, size_for
from easel.storage.jobs import JobRecord
from easel.tasks.image import ASPECT_RATIOS, ImageRequest, ImageResult, check_supported, dimensions_for

RED_CAR = "a red car under a tree at sunset"
SMALL: dict[str, Any] = {"width": 320, "height": 256}


@pytest.fixture(scope="module")
def illustrator() -> Illustrator:
    return Illustrator.locate()


@pytest.fixture(scope="module")
def provider() -> LocalIllustratorProvider:
    return LocalIllustratorProvider(Settings())


@pytest.fixture(scope="module")
def entry() -> ModelEntry:
    return Catalog.load().resolve("local:illustrator", task="image")


class Events:
    """A JobContext on the running loop, with the progress it reported."""

    def __init__(self, cancel_at: str | None = None) -> None:
        now = datetime.now(UTC)
        job = JobRecord(id="job-1", owner_id="local", task="image", model="local:illustrator", request={},
                        status="running", created_at=now, started_at=now)
        self.seen: list[tuple[float, str | None]] = []
        self.ctx = JobContext(job, on_progress=self.on_progress, loop=asyncio.get_running_loop())
        self.cancel_at = cancel_at

    def on_progress(self, fraction: float, message: str | None) -> None:  # runs on the loop's thread
        self.seen.append((fraction, message))
        if self.cancel_at and message and message.startswith(self.cancel_at):
            self.ctx.interrupt("canceled")


async def generate(provider: LocalIllustratorProvider, entry: ModelEntry, *, events: Events | None = None,
                   **options: object) -> ImageResult:
    request = ImageRequest(model=entry.id, **{"prompt": RED_CAR, "seed": 7, **options})  # type: ignore[arg-type]
    check_supported(request, entry)
    return await provider.generate_images(entry, request, (events or Events()).ctx)


def keys(scene: Scene) -> list[str]:
    return scene.subject_keys()


# -- the catalog side ------------------------------------------------------------------


def test_catalog_labels_it_an_offline_illustration_model(entry: ModelEntry) -> None:
    assert (entry.provider, entry.task, entry.curated) == ("local-illustrator", "image", True)
    assert "illustration" in entry.display_name.lower()
    assert entry.description and "not diffusion" in entry.description and "OpenMoji" in entry.description
    assert entry.pricing.per_image == 0.0 and entry.capabilities.seed
    assert sorted(entry.media.aspect_ratios) == sorted(ASPECT_RATIOS)
    assert entry.media.resolutions == ["custom"] and entry.media.max_images == 4
    assert Settings().default_image_model == entry.id


def test_entry_point_and_availability(entry: ModelEntry) -> None:
    (ep,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "local-illustrator"]
    assert ep.load() is create_providers
    (made,) = create_providers(Settings())
    assert isinstance(made, LocalIllustratorProvider) and made.name == "local-illustrator"
    assert made.availability(entry).usable


# -- the parser --------------------------------------------------------------------------


def test_parser_reads_subjects_colours_relations_and_time(illustrator: Illustrator) -> None:
    scene = illustrator.parse(RED_CAR)
    car, tree = scene.subjects
    assert (car.thing.key, car.color_name, car.relation, car.anchor) == ("car", "red", "under", 1)
    assert tree.thing.key == "tree" and scene.time == "sunset" and scene.unknown == []


@pytest.mark.parametrize(("prompt", "subjects", "setting", "time", "weather", "styles"), [
    ("three cats on a sofa in a cozy living room", ["cat", "sofa"], "room", "day", None, []),
    ("a lighthouse on a cliff at night with stars", ["lighthouse", "cliff", "star"], "ocean", "night", None, []),
    ("a person riding a bicycle in the city in the rain", ["cyclist"], "city", "day", "rain", []),
    ("a rocket above the moon in space", ["rocket", "moon"], "space", "night", None, []),
    ("a castle on a mountain in the snow", ["castle", "snowy mountain"], "snow", "day", "snow", []),
    ("a coffee cup and a croissant on a table, morning light", ["coffee", "croissant", "table"], "room",
     "morning", None, []),
    ("a sailboat on the ocean at sunrise, watercolor", ["sailboat"], "ocean", "sunrise", None, ["watercolor"]),
    ("a dog playing with a ball in a park", ["dog", "ball"], "park", "day", None, []),
    ("a desert with cacti and a camel under a blazing sun", ["cactus", "camel", "sun"], "desert", "day", None, []),
])
def test_parser_understands_the_check_prompts(illustrator: Illustrator, prompt: str, subjects: list[str],
                                              setting: str, time: str, weather: str | None,
                                              styles: list[str]) -> None:
    scene = illustrator.parse(prompt)
    assert keys(scene) == subjects
    assert (scene.setting, scene.time, scene.weather, scene.styles) == (setting, time, weather, styles)
    assert scene.unknown == []


def test_parser_counts_relations_and_groups(illustrator: Illustrator) -> None:
    cats, sofa = illustrator.parse("three cats on a sofa in a cozy living room").subjects
    assert (cats.count, cats.relation, cats.anchor) == (3, "on", 1) and sofa.anchor is None
    assert illustrator.parse("three cats on a sofa in a cozy living room").moods == ["cozy"]
    cup, croissant, table = illustrator.parse("a coffee cup and a croissant on a table").subjects
    assert (cup.relation, cup.anchor, croissant.relation, croissant.anchor) == ("on", 2, "on", 2)
    cacti = illustrator.parse("a desert with cacti and a camel").subjects[0]
    assert cacti.count is None and cacti.count_range == (2, 4)  # a bare plural: the seed picks how many
    dog, ball = illustrator.parse("a dog playing with a ball").subjects
    assert (ball.relation, ball.anchor) == ("with", 0)
    rocket = illustrator.parse("a rocket above the moon").subjects[0]
    assert (rocket.relation, rocket.anchor) == ("above", 1)
    two = illustrator.parse("2 blue cars and a few birds").subjects
    assert (two[0].count, two[0].color_name, two[1].count, two[1].count_range) == (2, "blue", None, (3, 4))


def test_parser_knows_synonyms_plurals_and_emoji_names(illustrator: Illustrator) -> None:
    assert keys(illustrator.parse("two puppies and a kitten")) == ["dog", "cat"]
    assert keys(illustrator.parse("an automobile near some oaks")) == ["car", "tree"]
    pretzel = illustrator.parse("a pretzel").subjects[0]  # not curated: found by its Unicode name
    assert not pretzel.thing.curated and pretzel.thing.art == "\U0001F968"
    scene = illustrator.parse("a horse, pixel art, noir")
    assert keys(scene) == ["horse"] and scene.styles == ["pixel", "noir"]


def test_parser_records_what_it_did_not_understand(illustrator: Illustrator) -> None:
    scene = illustrator.parse("the quantum entanglement of abstract feelings")
    assert scene.subjects == [] and not scene.recognised
    assert scene.unknown == ["quantum", "entanglement", "abstract", "feelings"]
    described = scene.describe()
    assert described["subjects"] == [] and "no subject" in described["note"]


# -- rendering -------------------------------------------------------------------------


def red_share(illustration: Illustration, key: str) -> tuple[float, float]:
    """The share of strongly red and of strongly blue pixels inside the subject's box."""
    (car,) = [p for p in illustration.placed if p.thing.key == key]
    box = car.box
    data = illustration.image.crop(box).convert("RGB").tobytes()
    pixels = [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]
    red = sum(1 for r, g, b in pixels if r > 150 and g < 90 and b < 90)
    blue = sum(1 for r, g, b in pixels if b > 140 and r < 90 and g < 130)
    return red / len(pixels), blue / len(pixels)


def test_the_red_car_is_red(illustrator: Illustrator) -> None:
    illustration = illustrator.render(illustrator.parse(RED_CAR), 512, 512, 7)
    red, blue = red_share(illustration, "car")
    assert red > 0.2 and blue < 0.02
    keys_drawn = {p.thing.key for p in illustration.placed}
    assert keys_drawn == {"car", "tree"}
    (car,) = [p for p in illustration.placed if p.thing.key == "car"]
    (tree,) = [p for p in illustration.placed if p.thing.key == "tree"]
    assert tree.height > car.height * 1.5  # a tree stands taller than the car under it
    assert abs(car.base - tree.base) < 0.08 * 512 and car.z > tree.z  # by its trunk, in front of it
    sky = illustration.image.getpixel((256, 5))
    assert isinstance(sky, tuple) and sky[2] > sky[1]  # the top of a sunset sky is deep blue-violet


def test_colour_words_recolour_the_artwork(illustrator: Illustrator) -> None:
    illustration = illustrator.render(illustrator.parse("a blue car on a road"), 512, 384, 3)
    red, blue = red_share(illustration, "car")
    assert blue > 0.2 and red < 0.02


def test_same_seed_same_pixels_other_seed_other_picture(illustrator: Illustrator) -> None:
    scene = illustrator.parse("a dog playing with a ball in a park")
    first = illustrator.render(scene, 384, 256, 11).image.tobytes()
    assert illustrator.render(scene, 384, 256, 11).image.tobytes() == first
    assert illustrator.render(scene, 384, 256, 12).image.tobytes() != first


def test_an_unrecognised_prompt_still_gives_a_landscape(illustrator: Illustrator) -> None:
    illustration = illustrator.render(illustrator.parse("zxqv blorp"), 384, 256, 1)
    assert illustration.placed == [] and illustration.image.size == (384, 256)
    colours = illustration.image.convert("RGB").getcolors(384 * 256)
    assert colours is not None and len(colours) > 50  # a painted sky and hills, not a flat fill
    top, bottom = illustration.image.getpixel((192, 4)), illustration.image.getpixel((192, 250))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > top[1] and bottom[1] > bottom[2]  # blue sky above green ground


# -- the provider ----------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_size_follows_the_aspect_ratio(entry: ModelEntry, ratio: str) -> None:
    request = ImageRequest(model=entry.id, prompt="a red car", aspect_ratio=ratio)  # type: ignore[arg-type]
    assert size_for(request) == dimensions_for(ratio)


async def test_each_aspect_ratio_renders_at_its_size(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    for ratio in ASPECT_RATIOS:
        result = await generate(provider, entry, prompt="a cat under a tree", aspect_ratio=ratio)
        (image,) = result.images
        with Image.open(io.BytesIO(image.data)) as opened:
            assert opened.format == "PNG" and opened.size == dimensions_for(ratio)
        assert (image.width, image.height) == dimensions_for(ratio) and image.mime_type == "image/png"


async def test_seeds_and_n(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    first = await generate(provider, entry, n=2, **SMALL)
    assert [i.seed for i in first.images] == [7, 8] and first.cost == 0.0
    assert first.images[0].data != first.images[1].data
    again = await generate(provider, entry, n=1, **SMALL)
    assert again.images[0].data == first.images[0].data
    for image in first.images:
        with Image.open(io.BytesIO(image.data)) as opened:
            assert opened.size == (320, 256)


async def test_settings_record_the_scene(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    (image,) = (await generate(provider, entry, **SMALL)).images
    scene = image.settings["scene"]
    assert [(s["subject"], s.get("color"), s.get("relation"), s["drawn"]) for s in scene["subjects"]] == [
        ("car", "red", "under tree", 1), ("tree", None, None, 1)]
    assert scene["time_of_day"] == "sunset" and scene["not_understood"] == []
    assert "not diffusion" in image.settings["method"] and "OpenMoji" in image.settings["attribution"]
    (unknown,) = (await generate(provider, entry, prompt="zxqv blorp", **SMALL)).images
    assert unknown.settings["scene"]["subjects"] == [] and unknown.settings["scene"]["not_understood"] == [
        "zxqv", "blorp"]


async def test_output_formats(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    (image,) = (await generate(provider, entry, output_format="jpeg", **SMALL)).images
    assert image.mime_type == "image/jpeg" and image.data[:2] == b"\xff\xd8"


async def test_progress_is_reported_per_image_and_stage(provider: LocalIllustratorProvider,
                                                         entry: ModelEntry) -> None:
    events = Events()
    await generate(provider, entry, events=events, n=2, **SMALL)
    await asyncio.sleep(0)  # progress from the worker thread lands on the loop
    fractions = [f for f, _ in events.seen]
    messages = [m or "" for _, m in events.seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("image 1/2: backdrop") for m in messages)
    assert any(m.startswith("image 2/2: subjects") for m in messages)
    assert any("car, tree" in m for m in messages)  # what was understood is said while it draws


async def test_cancel_before_rendering_stops(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    events = Events()
    events.ctx.interrupt("canceled")
    with pytest.raises(JobStopped):
        await generate(provider, entry, events=events, **SMALL)
    assert events.seen == []


async def test_cancel_between_images_stops(provider: LocalIllustratorProvider, entry: ModelEntry) -> None:
    events = Events(cancel_at="image 1/4 done")
    with pytest.raises(JobStopped):
        await generate(provider, entry, events=events, n=4, **SMALL)
    # the cancel lands while image 2 is drawn; image 3 never starts
    assert not any((m or "").startswith("image 3/4") for _, m in events.seen)
