"""Self-identification in battle answers: which names count, what is stripped, what is flagged."""

from __future__ import annotations

import pytest

from easel.catalog.catalog import Catalog
from easel.services.arena_leaks import SentenceFilter, identity_terms, names_itself, strip_self_introductions


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load([])


def terms_of(catalog: Catalog, model: str, provider_name: str = "") -> list[str]:
    return identity_terms(catalog.resolve(model), provider_name)


def test_terms_cover_model_family_maker_and_provider(catalog: Catalog) -> None:
    claude = {t.lower() for t in terms_of(catalog, "anthropic:claude-sonnet-4-5", "Anthropic")}
    assert {"claude", "anthropic", "claude-sonnet-4-5", "claude sonnet 4.5"} <= claude
    grok = {t.lower() for t in terms_of(catalog, "xai:grok-4", "xAI")}
    assert {"grok", "xai", "grok 4"} <= grok
    smol = {t.lower() for t in terms_of(catalog, "local:smollm2-135m", "Local (llama.cpp)")}
    assert {"smollm", "smollm2", "hugging face"} <= smol
    assert "local" not in smol  # a common word is no self-identification


@pytest.mark.parametrize(("model", "answer"), [
    ("anthropic:claude-sonnet-4-5", "I'm Claude, an AI assistant made by Anthropic. Paris is the capital."),
    ("openai:gpt-5", "As ChatGPT, I can help. Paris is the capital."),
    ("xai:grok-4", "I'm Grok, built by xAI! Paris is the capital."),
    ("local:smollm2-135m", "I am SmolLM, a small model trained by Hugging Face. Paris is the capital."),
    ("gemini:gemini-2.5-pro", "My name is Gemini. Paris is the capital."),
])
def test_self_introductions_are_stripped(catalog: Catalog, model: str, answer: str) -> None:
    shown, stripped, leaked = strip_self_introductions(answer, terms_of(catalog, model))
    assert shown == "Paris is the capital."
    assert stripped == 1 and not leaked


def test_a_name_left_in_the_answer_flags_it(catalog: Catalog) -> None:
    terms = terms_of(catalog, "openai:gpt-5", "OpenAI")
    shown, stripped, leaked = strip_self_introductions("Here is the plan; GPT-5 thinks it works.", terms)
    assert shown == "Here is the plan; GPT-5 thinks it works." and stripped == 0 and leaked


def test_other_models_and_ordinary_words_are_not_leaks(catalog: Catalog) -> None:
    terms = terms_of(catalog, "xai:grok-4", "xAI")
    assert not names_itself("Claude Monet painted water lilies; grokking takes time.", terms)
    assert names_itself("GROK-4 says hi", terms)
    shown, stripped, leaked = strip_self_introductions("I am a helpful assistant. Ask me anything.", terms)
    assert stripped == 0 and not leaked and shown == "I am a helpful assistant. Ask me anything."


def test_streamed_text_is_held_until_its_sentence_ends(catalog: Catalog) -> None:
    sentence_filter = SentenceFilter(terms_of(catalog, "anthropic:claude-sonnet-4-5", "Anthropic"))
    shown = [sentence_filter.feed(piece) for piece in ["I'm Cla", "ude, made by Anthr", "opic. The ", "sky is ", "blue.",
                                                       " Twice.\n", "Bye"]]
    assert "Claude" not in "".join(shown)
    assert shown[:3] == ["", "", ""]  # nothing of the introduction was shown while it streamed
    assert "".join(shown) + sentence_filter.flush() == "The sky is blue. Twice.\nBye"
    assert sentence_filter.stripped == 1 and not sentence_filter.leaked
