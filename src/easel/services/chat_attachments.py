"""Images in chat messages: accept them, keep them, and hand each model what it can read.

A message's content may be a list of OpenAI content parts: `text`, and `image_url` whose
url is a `data:` URL, an uploaded asset (`asset://<id>`, or `{"asset_id": ...}` in place of
the url) or, for models that fetch links themselves, an http(s) link. Anthropic's
`{"type": "image", "source": ...}` and Gemini's `inlineData` parts are mapped onto the same.

- `accept` (a conversation turn): checks the parts, saves `data:` images as uploaded assets
  and returns the parts with `asset://` urls, which is what the message stores.
- `resolve` (before the provider call, conversations and /v1 alike): models with vision input
  get every image as a `data:` URL (their adapters turn it into the provider's own shape);
  models without it get, in place of each image, a text part with what `vision_fallback`
  read from it, and the answer's `extras.attachments_described` and a warning say so.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import re
from typing import Any

from PIL import Image, UnidentifiedImageError

from easel.errors import InvalidRequest
from easel.services.chat import PreparedChat
from easel.services.vision_fallback import VisionFallback
from easel.storage.assets import AssetStore
from easel.storage.images_io import UPLOAD_LIMITS
from easel.tasks.chat import ChatMessage

ASSET_SCHEME = "asset://"
MAX_IMAGES_PER_MESSAGE = 8
MAX_IMAGE_BYTES = UPLOAD_LIMITS.max_bytes
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_DATA_URL = re.compile(r"data:(?P<mime>[^;,]*)(?:;[^;,]*)*;base64,(?P<data>.*)", re.DOTALL)
_ASSET_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _image_part(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def _mapped(part: dict[str, Any], where: str) -> dict[str, Any] | None:
    """An image part in OpenAI's shape, whatever shape it came in; None for a part that is not an image."""
    kind = part.get("type")
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, str):
            return _image_part(image)
        if not isinstance(image, dict):
            raise InvalidRequest(f"{where}: image_url must be an object with a url.", param="content")
        if isinstance(image.get("asset_id"), str):
            return _image_part(ASSET_SCHEME + image["asset_id"], image.get("detail"))
        if not isinstance(image.get("url"), str) or not image["url"]:
            raise InvalidRequest(f"{where}: image_url has no url (a data: URL, asset://<id> or a link).",
                                 param="content")
        return _image_part(image["url"], image.get("detail"))
    if kind == "image" and isinstance(part.get("source"), dict):  # Anthropic
        source = part["source"]
        if source.get("type") == "base64":
            return _image_part(f"data:{source.get('media_type') or 'image/png'};base64,{source.get('data') or ''}")
        if source.get("type") == "url" and isinstance(source.get("url"), str):
            return _image_part(source["url"])
        raise InvalidRequest(f"{where}: an image source must be base64 or a url.", param="content")
    inline = part.get("inlineData") or part.get("inline_data")  # Gemini
    if isinstance(inline, dict):
        mime = inline.get("mimeType") or inline.get("mime_type") or "image/png"
        return _image_part(f"data:{mime};base64,{inline.get('data') or ''}")
    return None


def normalise_parts(parts: list[dict[str, Any]], *, strict: bool, where: str = "content") -> list[dict[str, Any]]:
    """The parts with every image in OpenAI's shape. `strict` refuses anything but text and images."""
    out: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        at = f"{where}[{index}]"
        if not isinstance(part, dict):
            raise InvalidRequest(f"{at} must be an object such as {{\"type\": \"text\", \"text\": ...}}.",
                                 param="content")
        image = _mapped(part, at)
        if image is not None:
            out.append(image)
        elif part.get("type") == "text" and isinstance(part.get("text"), str):
            out.append({"type": "text", "text": part["text"]})
        elif strict:
            raise InvalidRequest(f"{at}: a message part must be text or an image (type 'text' or 'image_url'); "
                                 f"got type {part.get('type')!r}.", param="content")
        else:
            out.append(part)
    if sum(1 for p in out if p.get("type") == "image_url") > MAX_IMAGES_PER_MESSAGE:
        raise InvalidRequest(f"{where}: at most {MAX_IMAGES_PER_MESSAGE} images in one message.", param="content")
    return out


def _image_url(part: dict[str, Any]) -> str | None:
    return part["image_url"]["url"] if part.get("type") == "image_url" else None


def checked_image(data: bytes, where: str) -> str:
    """The image's media type; a clear 400 when the bytes are too many or not a picture."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidRequest(f"{where}: the image is too large ({len(data) / 1e6:.1f} MB; at most "
                             f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB).", param="content", code="image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidRequest(f"{where}: that is not an image easel can read (PNG, JPEG, WebP or GIF).",
                             param="content", code="invalid_image") from exc
    if kind not in IMAGE_FORMATS:
        raise InvalidRequest(f"{where}: {kind} images are not accepted; send PNG, JPEG, WebP or GIF.",
                             param="content", code="invalid_image")
    return IMAGE_FORMATS[kind]


def _decoded(url: str, where: str) -> bytes:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        raise InvalidRequest(f"{where}: a data: URL must be base64 ('data:image/png;base64,...').", param="content")
    if len(match["data"]) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise InvalidRequest(f"{where}: the image is too large (at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB).",
                             param="content", code="image_too_large")
    try:
        return base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{where}: the data: URL is not valid base64.", param="content") from exc


def _asset_id(url: str, where: str) -> str:
    asset_id = url[len(ASSET_SCHEME):]
    if not _ASSET_ID.fullmatch(asset_id):
        raise InvalidRequest(f"{where}: '{url}' is not an asset reference (asset://<id>).", param="content")
    return asset_id


def has_images(messages: list[ChatMessage]) -> bool:
    return any(isinstance(m.content, list) and any(_mapped_or_none(p) for p in m.content) for m in messages)


def _mapped_or_none(part: Any) -> bool:
    return isinstance(part, dict) and (part.get("type") in ("image_url", "image") or "inlineData" in part
                                       or "inline_data" in part)


class ChatAttachments:
    """Images in chat turns, for one studio: its asset store and its offline describer."""

    def __init__(self, *, assets: AssetStore, fallback: VisionFallback) -> None:
        self.assets = assets
        self.fallback = fallback

    async def accept(self, *, owner_id: str, content: str | list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]] | None]:
        """A user's turn: (its text, its parts to store, or None for plain text). `data:` images become assets."""
        if isinstance(content, str):
            if not content.strip():
                raise InvalidRequest("The message is empty.", param="content")
            return content, None
        parts = normalise_parts(content, strict=True)
        stored: list[dict[str, Any]] = []
        for index, part in enumerate(parts):
            url = _image_url(part)
            where = f"content[{index}]"
            if url is None:
                stored.append(part)
            elif url.startswith("data:"):
                data = _decoded(url, where)
                await asyncio.to_thread(checked_image, data, where)
                record = await self.assets.save_upload(owner_id=owner_id, data=data)
                stored.append(_image_part(ASSET_SCHEME + record.id))
            elif url.startswith(ASSET_SCHEME):
                await self._image_asset(owner_id, _asset_id(url, where))  # exists, is the caller's, is an image
                stored.append(part)
            elif url.startswith(("https://", "http://")):
                stored.append(part)
            else:
                raise InvalidRequest(f"{where}: an image url must be a data: URL, asset://<id> or an http(s) link.",
                                     param="content")
        text = "".join(p["text"] for p in stored if p.get("type") == "text")
        if not text.strip() and not any(_image_url(p) for p in stored):
            raise InvalidRequest("The message is empty.", param="content")
        return text, stored

    async def resolve(self, prepared: PreparedChat, *, owner_id: str) -> None:
        """Rewrite the request's images into what the model reads (see the module docstring)."""
        messages = prepared.request.messages
        if not has_images(messages):
            return
        last_user = max(i for i, m in enumerate(messages) if m.role == "user") if any(
            m.role == "user" for m in messages) else -1
        described: list[dict[str, Any]] = []
        rewritten: list[ChatMessage] = []
        for position, message in enumerate(messages):
            if not isinstance(message.content, list):
                rewritten.append(message)
                continue
            parts = normalise_parts(message.content, strict=False, where=f"messages[{position}].content")
            out: list[dict[str, Any]] = []
            number = 0
            descriptions: list[dict[str, Any]] = []
            for part in parts:
                url = _image_url(part)
                if url is None:
                    out.append(part)
                    continue
                number += 1
                where = f"messages[{position}] image {number}"
                if prepared.entry.capabilities.vision:
                    out.append(await self._for_vision(owner_id, part, url, where))
                    continue
                data, asset_id = await self._bytes(owner_id, url, where, prepared.entry.id)
                description = await self.fallback.describe(data)
                descriptions.append({"type": "text", "text": (
                    f"[The attached image {number} {description.sentence()}. (easel read it with OCR because "
                    f"{prepared.entry.id} cannot see images.)]\n")})
                if position == last_user:
                    described.append({"index": number, "ocr_text": description.ocr_text,
                                      "labels": description.labels, "method": description.method,
                                      "asset_id": asset_id})
            # Descriptions go before the question: small models answer from what they read last, and
            # then answer the question about the text rather than drift.
            rewritten.append(message.model_copy(update={"content": descriptions + out}))
        prepared.request = prepared.request.model_copy(update={"messages": rewritten})
        if described:
            prepared.extras["attachments_described"] = described
            prepared.warnings.append(f"images described by easel: '{prepared.entry.id}' cannot see images, so it "
                                     "was sent the text easel read from them (OCR) and a few labels")

    async def _for_vision(self, owner_id: str, part: dict[str, Any], url: str, where: str) -> dict[str, Any]:
        if url.startswith(("https://", "http://")):
            return part  # the provider fetches links itself
        data, _ = await self._bytes(owner_id, url, where, None)
        mime = await asyncio.to_thread(checked_image, data, where)
        return _image_part(f"data:{mime};base64,{base64.b64encode(data).decode()}", part["image_url"].get("detail"))

    async def _bytes(self, owner_id: str, url: str, where: str, model: str | None) -> tuple[bytes, str | None]:
        if url.startswith("data:"):
            data = _decoded(url, where)
            await asyncio.to_thread(checked_image, data, where)
            return data, None
        if url.startswith(ASSET_SCHEME):
            asset_id = _asset_id(url, where)
            await self._image_asset(owner_id, asset_id)
            return await self.assets.read_bytes(owner_id=owner_id, asset_id=asset_id), asset_id
        if url.startswith(("https://", "http://")):
            raise InvalidRequest(f"{where}: '{model}' cannot see images and easel does not fetch links to describe "
                                 "them: upload the image (asset://<id>) or send it as a data: URL.", param="content")
        raise InvalidRequest(f"{where}: an image url must be a data: URL, asset://<id> or an http(s) link.",
                             param="content")

    async def _image_asset(self, owner_id: str, asset_id: str) -> None:
        record = await self.assets.get(owner_id=owner_id, asset_id=asset_id)  # NotFound for others' assets
        if record.kind != "image":
            raise InvalidRequest(f"Asset '{asset_id}' is a {record.kind}, not an image.", param="content")


async def accept_content(attachments: ChatAttachments | None, *, owner_id: str,
                         content: str | list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]] | None]:
    """`ChatAttachments.accept`, or plain text only where a service was built without attachments."""
    if attachments is not None:
        return await attachments.accept(owner_id=owner_id, content=content)
    if not isinstance(content, str) or not content.strip():
        raise InvalidRequest("The message is empty." if isinstance(content, str) else
                             "This service takes text messages only.", param="content")
    return content, None


async def resolve_images(attachments: ChatAttachments | None, prepared: PreparedChat, *, owner_id: str) -> None:
    if attachments is not None:
        await attachments.resolve(prepared, owner_id=owner_id)
