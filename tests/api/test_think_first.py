"""Think first: two passes (a plan shown as reasoning, then the answer with the plan in context), through
the OpenAI-compatible API and conversations, on a fake and on the real local model; and `<think>` text
from a host split out of the answer."""

from __future__ import annotations

import openai

from tests.api.conftest import Studio, sse_events


def test_think_first_plans_then_answers_with_the_plan(studio: Studio, client: openai.OpenAI) -> None:
    requests = studio.fakes.openai_app.state.requests
    before = len(requests)
    reply = client.chat.completions.create(model="fake:fake-echo", messages=[{"role": "user", "content": "why is the sky blue"}],
                                           extra_body={"think_first": True})
    plan_body, answer_body = list(requests)[before:]
    # pass 1 asked for a plan; the fake echoes the request, so the plan is that echo
    assert "plan" in plan_body["messages"][-1]["content"]
    plan = reply.choices[0].message.reasoning_content  # type: ignore[attr-defined]
    assert plan.startswith("You said: Before answering") and "why is the sky blue" in plan
    # pass 2 read the plan: the question, then the plan, and its answer is what the user gets
    assert plan.strip() in answer_body["messages"][-1]["content"]
    assert reply.choices[0].message.content.startswith("You said: why is the sky blue")
    assert "Before answering" in reply.choices[0].message.content
    # usage is both passes together
    assert reply.usage is not None
    assert reply.usage.completion_tokens == len(plan.split()) + len(reply.choices[0].message.content.split())
    assert reply.usage.completion_tokens_details.reasoning_tokens == len(plan.split())  # the plan pass


def test_think_first_streams_the_plan_as_reasoning_first(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="fake:fake-echo", messages=[{"role": "user", "content": "hi there"}],
                                            stream=True, stream_options={"include_usage": True},
                                            extra_body={"think_first": True})
    kinds: list[str] = []
    usage = None
    finishes = 0
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            finishes += choice.finish_reason is not None
            if getattr(choice.delta, "reasoning_content", None):
                kinds.append("reasoning")
            elif choice.delta.content:
                kinds.append("text")
    assert kinds and kinds[0] == "reasoning" and kinds[-1] == "text"
    assert kinds == sorted(kinds)  # every reasoning delta before every text delta
    assert finishes == 1 and usage is not None and usage.completion_tokens == len(kinds)


def test_think_first_with_a_reasoning_model_warns(studio: Studio) -> None:
    with studio.http() as http:
        response = http.post("/v1/chat/completions", json={
            "model": "fake:fake-echo", "messages": [{"role": "user", "content": "x"}], "think_first": "yes please"})
        assert response.status_code == 400 and response.json()["error"]["param"] == "think_first"
        response = http.post("/v1/chat/completions", json={
            "model": "xai:grok-4", "messages": [{"role": "user", "content": "x"}], "think_first": True})
    assert response.status_code == 200, response.text
    assert "reasons on its own" in response.headers["warning"]


def test_conversation_turn_think_first_is_stored_as_a_two_pass_answer(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-echo"}).json()
        with http.stream("POST", f"/api/conversations/{conv['id']}/messages",
                         json={"content": "plan a picnic", "think_first": True, "stream": True}) as response:
            events = sse_events(response)
        detail = http.get(f"/api/conversations/{conv['id']}").json()
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert names.index("reasoning") < names.index("text")
    answer = detail["messages"][-1]
    assert answer["extras"] == {"mode": "think_first"}
    assert "plan a picnic" in answer["reasoning"] and answer["content"].startswith("You said: plan a picnic")
    assert answer["completion_tokens"] == len(answer["reasoning"].split()) + len(answer["content"].split())
    assert answer["reasoning_tokens"] == len(answer["reasoning"].split())


def test_think_first_on_the_local_model(studio: Studio) -> None:
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "local:smollm2-135m"}).json()
        reply = http.post(f"/api/conversations/{conv['id']}/messages",
                          json={"content": "How do I boil an egg?", "think_first": True, "max_tokens": 40, "seed": 3})
    assert reply.status_code == 200, reply.text
    message = reply.json()
    assert message["extras"] == {"mode": "think_first"}
    assert message["reasoning"].strip() and message["content"].strip()
    assert message["reasoning"].strip() != message["content"].strip()


def test_think_tags_from_a_host_are_reasoning_not_answer(studio: Studio, client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="fake:fake-thinker",
                                           messages=[{"role": "user", "content": "count these four words"}])
    message = reply.choices[0].message
    assert message.reasoning_content == "The user wrote 4 words; answer plainly."  # type: ignore[attr-defined]
    assert message.content == "You said: count these four words"
    # the host counted the think text as completion tokens and reported no reasoning tokens
    assert reply.usage is not None and reply.usage.completion_tokens_details is not None
    assert 0 < reply.usage.completion_tokens_details.reasoning_tokens < reply.usage.completion_tokens
    with studio.http() as http:
        conv = http.post("/api/conversations", json={"model": "fake:fake-thinker"}).json()
        stored = http.post(f"/api/conversations/{conv['id']}/messages", json={"content": "two words"}).json()
    assert stored["reasoning"] == "The user wrote 2 words; answer plainly."
    assert stored["content"] == "You said: two words"
    assert 0 < stored["reasoning_tokens"] < stored["completion_tokens"]
