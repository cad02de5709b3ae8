"""Conversations as the block-based APIs take them (Anthropic Messages, Bedrock Converse).

Both want the system text apart from the turns, no two turns of one role in a row, and a user
turn's tool results before anything else in it. A provider module says how one message becomes
blocks; the merging is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from integration_api.llm.contract import ChatMessage, Role

JsonObject = dict[str, object]
BlockWriter = Callable[[ChatMessage, int], list[JsonObject]]


@dataclass(frozen=True)
class BlockFormat:
    """How one provider writes a message as blocks.

    Attributes:
        system_blocks: the blocks of a system message (hoisted out of the turns).
        blocks: the blocks of any other message, in its turn.
        is_tool_result: whether a block answers a tool call (put first in its user turn).
    """

    system_blocks: BlockWriter
    blocks: BlockWriter
    is_tool_result: Callable[[JsonObject], bool]


@dataclass
class _Turn:
    role: str
    blocks: list[JsonObject] = field(default_factory=list)


def conversation(
    messages: Iterable[ChatMessage], block_format: BlockFormat
) -> tuple[list[JsonObject], list[JsonObject]]:
    """The system blocks, and the turns (`{"role", "content"}`) with same-role messages merged."""
    system: list[JsonObject] = []
    turns: list[_Turn] = []
    for index, message in enumerate(messages):
        if message.role is Role.SYSTEM:
            system.extend(block_format.system_blocks(message, index))
            continue
        role = "assistant" if message.role is Role.ASSISTANT else "user"
        blocks = block_format.blocks(message, index)
        if turns and turns[-1].role == role:
            turns[-1].blocks.extend(blocks)
        else:
            turns.append(_Turn(role, blocks))
    written: list[JsonObject] = [
        {"role": turn.role, "content": _ordered(turn, block_format.is_tool_result)}
        for turn in turns
    ]
    return system, written


def _ordered(turn: _Turn, is_tool_result: Callable[[JsonObject], bool]) -> list[JsonObject]:
    if turn.role != "user":
        return turn.blocks
    results = [block for block in turn.blocks if is_tool_result(block)]
    return results + [block for block in turn.blocks if not is_tool_result(block)]
