"""Google's Imagen through the Gemini API (`POST {base}/models/{model}:predict`): pure functions.

The body is Vertex's prediction shape:

    {"instances": [{"prompt": "..."}],
     "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "imageSize": "2K", "personGeneration": "allow_adult"}}

`sampleCount` is always sent, because Google's default is 4 images, not 1. `aspectRatio` is one
of the entry's ratios (Imagen 4: 1:1, 3:4, 4:3, 9:16, 16:9). `imageSize` comes from
`request.extra["resolution"]` ("1K", "2K"), sent only to models with more than one tier
(Imagen 4 Fast makes 1K only and refuses the field); `personGeneration` from
`extra["person_generation"]`. The Gemini API takes no seed and no negative prompt.

The answer is `{"predictions": [{"bytesBase64Encoded", "mimeType"}]}`. Images the safety
filters removed are missing (or carry `raiFilteredReason`); an answer with none at all
means the prompt itself was blocked, which is the client's to change (UpstreamBadRequest).
"""

from __future__ import annotations

from typing import Any

from easel.adapters.openai_images import (
    ImagesCall,
    check_common,
    check_extra,
    check_native_format,
    decode_image,
    format_of,
)
from easel.catalog.entry import ModelEntry
from easel.errors import UnsupportedParameter, UpstreamBadRequest, UpstreamError
from easel.tasks.image import GeneratedImage, ImageRequest, nearest_aspect_ratio

FAMILY = "imagen"
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
EXTRAS: dict[str, tuple[str, ...] | None] = {"resolution": (), "person_generation": PERSON_GENERATION}


def speaks_for(entry: ModelEntry) -> bool:
    """Whether `entry` is an Imagen model (served by :predict rather than generateContent)."""
    return entry.family == FAMILY


def to_wire(request: ImageRequest, entry: ModelEntry) -> ImagesCall:
    """The :predict body for `request` on `entry` (raises UnsupportedParameter)."""
    check_common(request, entry)
    check_extra(request, entry, EXTRAS)
    check_native_format(request, entry, "png")
    if request.quality not in (None, "auto"):
        raise UnsupportedParameter(f"Model '{entry.id}' does not take a quality; choose a model "
                                   "(fast, standard, ultra) or a resolution instead.", param="quality")
    if request.style is not None:
        raise UnsupportedParameter(f"Model '{entry.id}' does not take a style; describe it in the prompt.",
                                   param="style")
    ratios = entry.media.aspect_ratios or ["1:1"]
    if request.width is not None and request.height is not None:
        raise UnsupportedParameter(f"Model '{entry.id}' takes an aspect_ratio, not width/height; supported: "
                                   f"{', '.join(ratios)}.", param="width")
    aspect = request.aspect_ratio or ("1:1" if "1:1" in ratios else nearest_aspect_ratio(1, 1, ratios))
    parameters: dict[str, Any] = {"sampleCount": request.n, "aspectRatio": aspect}
    settings: dict[str, Any] = {"aspect_ratio": aspect}

    tier = request.extra.get("resolution")
    if tier is not None:
        tiers = {t.upper(): t for t in entry.media.resolutions}
        if not isinstance(tier, str) or tier.upper() not in tiers:
            raise UnsupportedParameter(f"Model '{entry.id}' does not support resolution {tier!r}; supported: "
                                       f"{', '.join(entry.media.resolutions) or 'none'}.", param="extra")
        settings["image_size"] = tiers[tier.upper()]
        if len(tiers) > 1:
            parameters["imageSize"] = tiers[tier.upper()]
    person = request.extra.get("person_generation")
    if person is not None:
        if person not in PERSON_GENERATION:
            raise UnsupportedParameter(f"Model '{entry.id}' does not support person_generation {person!r}; "
                                       f"supported: {', '.join(PERSON_GENERATION)}.", param="extra")
        parameters["personGeneration"] = settings["person_generation"] = person
    return ImagesCall({"instances": [{"prompt": request.prompt}], "parameters": parameters}, settings)


def from_wire(payload: Any, call: ImagesCall, *, provider: str) -> list[GeneratedImage]:
    """The images in a :predict answer; none at all is a blocked prompt."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"sent an unexpected answer: {str(payload)[:200]!r}", provider=provider,
                            code="upstream_bad_payload")
    predictions = payload.get("predictions") or []
    if not isinstance(predictions, list):
        raise UpstreamError("sent predictions that are not a list", provider=provider, code="upstream_bad_payload")
    images: list[GeneratedImage] = []
    reasons: list[str] = []
    for prediction in predictions:
        if not isinstance(prediction, dict):
            raise UpstreamError(f"sent an unexpected prediction: {str(prediction)[:200]!r}", provider=provider,
                                code="upstream_bad_payload")
        if "bytesBase64Encoded" not in prediction:
            reason = prediction.get("raiFilteredReason")
            if isinstance(reason, str) and reason:
                reasons.append(reason)
            continue
        raw, mime, width, height = decode_image(prediction["bytesBase64Encoded"], provider=provider)
        images.append(GeneratedImage(data=raw, mime_type=mime, width=width, height=height,
                                     settings={**call.settings, "output_format": format_of(mime)}))
    if not images:
        why = f": {reasons[0]}" if reasons else ""
        raise UpstreamBadRequest(f"made no images; the prompt was blocked by its safety filters{why}",
                                 provider=provider, code="content_filtered")
    return images
