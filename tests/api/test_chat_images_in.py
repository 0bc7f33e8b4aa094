"""Images in chat: uploaded or inline pictures reach vision models in their own wire format, and models
without vision (the offline local one included) get what easel read from them by OCR, said so in the reply."""

from __future__ import annotations

import base64

import openai
import pytest

from tests.api.conftest import Studio
from tests.services.test_vision_fallback import text_picture

QUESTION = "What does this say?"


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _upload(studio: Studio, data: bytes) -> str:
    with studio.http() as http:
        response = http.post("/api/assets", files={"file": ("invoice.png", data, "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _turn(studio: Studio, model: str, parts: list[dict]) -> tuple[dict, dict]:
    """(the reply's message, the response headers) of one turn in a new conversation."""
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": model}).json()
        response = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": parts, "max_tokens": 40})
        assert response.status_code == 200, response.text
        return response.json(), dict(response.headers)


def test_the_local_model_reads_an_uploaded_image_through_ocr(studio: Studio) -> None:
    asset_id = _upload(studio, text_picture("INVOICE 4721"))
    parts = [{"type": "text", "text": QUESTION}, {"type": "image_url", "image_url": {"url": f"asset://{asset_id}"}}]
    reply, headers = _turn(studio, "local:smollm2-135m", parts)
    assert reply["status"] == "complete" and reply["content"].strip()
    [described] = reply["extras"]["attachments_described"]
    assert described["ocr_text"] == "INVOICE 4721" and described["asset_id"] == asset_id
    assert described["method"] == "ocr+labels" and "640x200 pixels" in described["labels"]
    assert "cannot see images" in headers["warning"]
    with studio.http() as http:
        stored = http.get(f"/api/conversations/{reply['conversation_id']}").json()["messages"][0]
    assert stored["content"] == QUESTION
    assert stored["content_parts"][1] == {"type": "image_url", "image_url": {"url": f"asset://{asset_id}"}}


def test_a_model_without_vision_is_sent_the_text_easel_read(studio: Studio) -> None:
    parts = [{"type": "text", "text": QUESTION},
             {"type": "image_url", "image_url": {"url": _data_url(text_picture("TOTAL 88"))}}]
    reply, _ = _turn(studio, "fake:fake-echo", parts)
    # the echo shows exactly what the model read in place of the picture
    assert reply["content"].startswith('You said: [The attached image 1 contains this text: "TOTAL 88". It is ')
    assert reply["content"].endswith(f"(easel read it with OCR because fake:fake-echo cannot see images.)]\n{QUESTION}")
    # the inline picture was kept as an uploaded asset, which the message refers to
    with studio.http() as http:
        stored = http.get(f"/api/conversations/{reply['conversation_id']}").json()["messages"][0]
        asset_id = stored["content_parts"][1]["image_url"]["url"].removeprefix("asset://")
        assert http.get(f"/api/assets/{asset_id}").json()["origin"] == "upload"


def test_a_follow_up_still_reads_the_earlier_image(studio: Studio) -> None:
    parts = [{"type": "text", "text": "Keep this."},
             {"type": "image_url", "image_url": {"url": _data_url(text_picture("PELICAN"))}}]
    first, _ = _turn(studio, "fake:fake-echo", parts)
    with studio.http() as http:
        http.post(f"/api/conversations/{first['conversation_id']}/messages", json={"content": "and now?"})
    sent = studio.fakes.openai_app.state.requests[-1]["messages"]
    assert sent[0]["content"][0]["text"].startswith('[The attached image 1 contains this text: "PELICAN"')
    assert sent[0]["content"][1] == {"type": "text", "text": "Keep this."}


@pytest.mark.parametrize("model", ["xai:grok-4", "anthropic:claude-sonnet-4-5", "gemini:gemini-2.5-flash"])
def test_vision_models_get_the_picture_itself(studio: Studio, model: str) -> None:
    picture = text_picture("INVOICE 4721")
    asset_id = _upload(studio, picture)
    reply, headers = _turn(studio, model, [{"type": "text", "text": QUESTION},
                                           {"type": "image_url", "image_url": {"asset_id": asset_id}}])
    assert reply["status"] == "complete" and "attachments_described" not in (reply["extras"] or {})
    assert "warning" not in headers
    encoded = base64.b64encode(picture).decode()
    provider = model.split(":")[0]
    app = {"xai": studio.fakes.openai_app, "anthropic": studio.fakes.anthropic_app,
           "gemini": studio.fakes.gemini_app}[provider]
    body = app.state.requests[-1]
    if provider == "xai":
        assert body["messages"][-1]["content"][1] == {"type": "image_url",
                                                      "image_url": {"url": f"data:image/png;base64,{encoded}"}}
    elif provider == "anthropic":
        assert body["messages"][-1]["content"][1] == {
            "type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}}
    else:
        assert body["body"]["contents"][-1]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": encoded}}


def test_the_openai_api_describes_images_for_a_model_without_vision(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="fake:fake-echo", messages=[{"role": "user", "content": [
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": _data_url(text_picture("INVOICE 4721"))}}]}])
    assert "cannot see images" in raw.headers["warning"]
    assert 'image 1 contains this text: "INVOICE 4721"' in raw.parse().choices[0].message.content


@pytest.mark.parametrize(("part", "status", "wording"), [
    ({"type": "image_url", "image_url": {"url": _data_url(b"just some text", "image/png")}}, 400, "not an image"),
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, 400, "not valid base64"),
    ({"type": "image_url", "image_url": {"url": "asset://asset_nosuchthing"}}, 404, "asset_nosuchthing"),
    ({"type": "image_url", "image_url": {"url": "ftp://example.test/a.png"}}, 400, "data: URL, asset://"),
    ({"type": "image_url", "image_url": {}}, 400, "has no url"),
    ({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}, 400, "text or an image"),
])
def test_bad_images_are_refused_with_a_clear_error(studio: Studio, part: dict, status: int, wording: str) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-echo"}).json()
        response = http.post(f"/api/conversations/{conv['id']}/messages",
                             json={"content": [{"type": "text", "text": "look"}, part]})
        assert response.status_code == status, response.text
        assert wording in response.json()["error"]["message"]
        assert http.get(f"/api/conversations/{conv['id']}").json()["messages"] == []


def test_a_link_cannot_be_described_for_a_model_without_vision(studio: Studio) -> None:
    with studio.http() as http:
        response = http.post("/v1/chat/completions", json={"model": "fake:fake-echo", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.test/cat.png"}}]}]})
    assert response.status_code == 400
    assert "does not fetch links" in response.json()["error"]["message"]


def test_an_image_over_the_size_limit_is_refused(studio: Studio) -> None:
    too_big = "data:image/png;base64," + "A" * (28 * 1024 * 1024)
    with studio.http() as http:
        response = http.post("/v1/chat/completions", json={"model": "xai:grok-4", "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": too_big}}]}]})
    assert response.status_code == 400 and "too large" in response.json()["error"]["message"]
