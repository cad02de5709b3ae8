"""The checks every provider answer passes before it becomes a response: JSON without `NaN`,
`Infinity` or oversized numbers, and each contract number held to its response field's type."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from google.protobuf.descriptor import FieldDescriptor

from integration_api.embeddings import contract as embeddings
from integration_api.errors import Unavailable
from integration_api.llm import contract as llm
from integration_api.llm.wire import wire_class
from integration_api.providers.answer_json import RefusedNumber, loads_answer
from integration_api.speech import contract as speech
from integration_api.upstream import answer_bounds
from integration_api.upstream.answer_bounds import check_answer

# Every contract type a pipeline hands out, and the message it becomes.
ANSWER_TYPES: dict[type, str] = {
    llm.TextDelta: "TextDelta",
    llm.ReasoningDelta: "ReasoningDelta",
    llm.ToolCall: "ToolCall",
    llm.Usage: "Usage",
    llm.Finish: "Finish",
    llm.Timing: "Timing",
    embeddings.EmbedResult: "Embedding",
    embeddings.RankedDocument: "RerankResult",
    embeddings.RerankAnswer: "RerankResponse",
    speech.Transcript: "Transcript",
    speech.Word: "Word",
    speech.SpeechStarted: "SpeechStarted",
    speech.UtteranceEnd: "UtteranceEnd",
    speech.TranscriptionMetadata: "TranscriptionMetadata",
    speech.AlignedText: "AlignedText",
    speech.SynthesisDone: "SynthesisDone",
}
# The contract field's name in its message, where the two differ.
MESSAGE_FIELDS = {("EmbedResult", "vectors"): "values"}
BOUND_OF_WIRE_TYPE = {
    FieldDescriptor.TYPE_INT32: answer_bounds.COUNT,
    FieldDescriptor.TYPE_UINT64: answer_bounds.UINT64,
    FieldDescriptor.TYPE_FLOAT: answer_bounds.FLOAT32,
    FieldDescriptor.TYPE_DOUBLE: answer_bounds.DOUBLE,
}


def leaf_types(hint: object) -> set[object]:
    """The types a hint is made of: `list[list[float]]` → {float}, `int | None` → {int, None}."""
    arguments = typing.get_args(hint)
    if not arguments:
        return {hint}
    return {leaf for argument in arguments for leaf in leaf_types(argument)}


def numeric_fields(kind: type) -> list[str]:
    hints = typing.get_type_hints(kind)
    return [
        item.name
        for item in dataclasses.fields(kind)
        if leaf_types(hints[item.name]) & {int, float}
    ]


@pytest.mark.parametrize("kind", ANSWER_TYPES, ids=lambda kind: kind.__name__)
def test_every_number_of_an_answer_is_bounded_by_its_response_field_type(kind: type) -> None:
    message = wire_class(f"integration.v1.{ANSWER_TYPES[kind]}").DESCRIPTOR
    bounds = answer_bounds.numeric_fields().get(kind.__name__, {})
    for name in numeric_fields(kind):
        field = message.fields_by_name[MESSAGE_FIELDS.get((kind.__name__, name), name)]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            assert field.message_type.full_name == "google.protobuf.Duration"
            assert bounds[name] is answer_bounds.SECONDS, name
        else:
            assert bounds[name] is BOUND_OF_WIRE_TYPE[field.type], name


@pytest.mark.parametrize(
    "document",
    ["NaN", "[Infinity]", '{"a": -Infinity}', "1" + "0" * 20, "-" + "9" * 21, "1" + "0" * 399],
)
def test_json_numbers_no_answer_may_carry_are_refused_where_the_answer_is_parsed(
    document: str,
) -> None:
    with pytest.raises(RefusedNumber):
        loads_answer(document)


def test_json_within_range_reads_as_usual() -> None:
    document = '{"n": 18446744073709551615, "x": 1e300, "y": -0.5, "s": "a\\u0000"}'
    assert loads_answer(document) == {"n": 2**64 - 1, "x": 1e300, "y": -0.5, "s": "a\x00"}


def refusal(value: object) -> str:
    with pytest.raises(Unavailable) as raised:
        check_answer(value, "p")
    assert raised.value.reason == "PROVIDER_BAD_RESPONSE"
    assert raised.value.provider == "p"
    return raised.value.message


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (llm.Usage(input_tokens=2**31), "Usage.input_tokens"),
        (llm.Usage(output_tokens=-1), "Usage.output_tokens"),
        (speech.Word("w", 0.0, 1.0, confidence=1e300), "Word.confidence"),
        (speech.Word("w", 0.0, float("nan")), "Word.end"),
        (speech.Transcript("t", True, start=float("inf")), "Transcript.start"),
        (
            speech.Transcript(
                "t", True, words=(speech.Word("w", 0.0, 1.0), speech.Word("w", 1e12, 1.0))
            ),
            "Transcript.words[1].start",
        ),
        (speech.SynthesisDone("p", characters=2**64), "SynthesisDone.characters"),
        (embeddings.EmbedResult([[0.5, 3.5e38]], llm.Usage(), "m"), "EmbedResult.vectors[0][1]"),
        (embeddings.RankedDocument(0, float("-inf")), "RankedDocument.relevance_score"),
        (embeddings.RankedDocument(0, 10**400), "RankedDocument.relevance_score"),
    ],
)
def test_a_number_out_of_its_fields_range_is_refused_naming_the_field(
    value: object, path: str
) -> None:
    assert refusal(value) == f"p answered with a number out of range in {path}"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (llm.TextDelta("a\x00b"), "a NUL character in TextDelta.text"),
        (llm.ToolCall(0, "c", "f", '{"a": "\x00"}'), "a NUL character in ToolCall.arguments_json"),
        (speech.Word("a\ud800", 0.0, 1.0), "text that is not valid Unicode in Word.text"),
        (llm.Finish(llm.FinishReason.STOP, "", "m\x00", ""), "a NUL character in Finish.model"),
    ],
)
def test_text_with_nul_or_a_lone_surrogate_is_refused_naming_the_field(
    value: object, what: str
) -> None:
    assert refusal(value) == f"p answered with {what}"


@pytest.mark.parametrize(
    "value",
    [
        llm.Usage(input_tokens=2**31 - 1, output_tokens=0),
        speech.Word("é", 0.0, 315_576_000_000.0, confidence=-3.4e38),
        embeddings.EmbedResult([[0.5, -1.0, 0]], llm.Usage(input_tokens=3), "m"),
        embeddings.RerankAnswer([embeddings.RankedDocument(1, 1e300)], llm.Usage(), "m", 7),
    ],
)
def test_values_within_their_fields_pass(value: object) -> None:
    check_answer(value, "p")


def test_every_part_a_pipeline_hands_out_with_numbers_is_listed() -> None:
    unions = (llm.StreamPart, speech.TranscriptEvent, speech.SynthesisEvent)
    members = {member for union in unions for member in typing.get_args(union)}
    unlisted = [kind.__name__ for kind in members - set(ANSWER_TYPES) if numeric_fields(kind)]
    assert unlisted == []
