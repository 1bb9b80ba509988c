"""What real Slack refuses in a message or a view, so the fake Slack refuses it too (issue 10 item 13).

Blocks and their interactive elements are parsed and checked with `slack_sdk.models` (section text
≤ 3,000, header ≤ 150, button text ≤ 75, action_id ≤ 255, ≤ 25 elements per actions block, ≤ 10 per
context block, …); on top, the documented rules slack_sdk does not check for a whole surface:
≤ 50 blocks per message and ≤ 100 per view (docs.slack.dev/reference/block-kit/blocks), block_id
≤ 255 and unique, action_id unique within the message or view, a modal title ≤ 24 and
private_metadata ≤ 3,000 (api.slack.com/reference/block-kit/views). A message whose block text
passes ~13,000 characters in total is refused with `msg_blocks_too_long` although no single limit is
broken (slackapi/bolt-js#2509: refused from ~13,200); the fake refuses above 12,000.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.blocks.block_elements import BlockElement

MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
MESSAGE_TEXT_BUDGET = 12_000  # Slack's undocumented total (msg_blocks_too_long), with a margin
ID_MAX = 255
MODAL_TEXT_MAX, PRIVATE_METADATA_MAX = 24, 3000
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage")
VIEW_METHODS = ("views.open", "views.publish", "views.update", "views.push")


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements of a block (the ones that carry an action_id)."""
    found = list(block.get("elements") or []) if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return [e for e in found if isinstance(e, dict)]


def _texts(node: Any) -> int:
    """Characters of every `text` string in a block tree."""
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(_texts(v) for v in node.values() if isinstance(v, dict | list))
    if isinstance(node, list):
        return sum(_texts(v) for v in node)
    return 0


def block_problems(blocks: Any, *, max_blocks: int) -> list[str]:
    """Every rule the blocks of one message or view break (empty: Slack would accept them)."""
    if not isinstance(blocks, list):
        return ["blocks must be a list"]
    out: list[str] = []
    if len(blocks) > max_blocks:
        out.append(f"{len(blocks)} blocks: at most {max_blocks}")
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for n, raw in enumerate(blocks):
        where = f"blocks[{n}]"
        if not isinstance(raw, dict):
            out.append(f"{where}: not an object")
            continue
        block = Block.parse(raw)
        if block is None or type(block) is Block:
            out.append(f"{where}: unknown block type {raw.get('type')!r}")
            continue
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            out.append(f"{where} ({raw['type']}): {exc}")
        text = raw.get("text")
        if isinstance(text, dict) and not str(text.get("text") or "").strip():
            out.append(f"{where} ({raw['type']}): empty text")
        block_id = raw.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > ID_MAX:
                out.append(f"{where}: block_id longer than {ID_MAX}")
            if block_id in block_ids:
                out.append(f"{where}: duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        for e in _elements(raw):
            element = BlockElement.parse(e)
            if element is not None:
                try:
                    element.validate_json()
                except SlackObjectFormationError as exc:
                    out.append(f"{where} {e.get('type')}: {exc}")
            action_id = e.get("action_id")
            if action_id is None:
                continue
            if action_id in action_ids:
                out.append(f"{where}: duplicate action_id {action_id!r}")
            action_ids.add(action_id)
    return out


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    out = block_problems(view.get("blocks"), max_blocks=VIEW_BLOCKS)
    if not view.get("blocks"):
        out.append("a view needs at least one block")
    if view.get("type") == "modal":
        for key in ("title", "submit", "close"):
            text = (view.get(key) or {}).get("text")
            if text is not None and len(text) > MODAL_TEXT_MAX:
                out.append(f"modal {key} longer than {MODAL_TEXT_MAX}")
        if not view.get("title"):
            out.append("a modal needs a title")
        inputs = any(b.get("type") == "input" for b in view.get("blocks") or [] if isinstance(b, dict))
        if inputs and not view.get("submit"):
            out.append("a modal with input blocks needs submit")
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA_MAX:
        out.append(f"private_metadata longer than {PRIVATE_METADATA_MAX}")
    return out


def refusal(method: str, args: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(error, messages) as Slack would answer this call, or None when Slack would accept it.
    Response URLs (`/response/…`, `/commands/…`) carry messages too."""
    is_message = method in MESSAGE_METHODS or method.startswith(("/response/", "/commands/"))
    if is_message and args.get("blocks") is not None:
        problems = block_problems(args["blocks"], max_blocks=MESSAGE_BLOCKS)
        if problems:
            return "invalid_blocks", problems
        total = _texts(args["blocks"])
        if total > MESSAGE_TEXT_BUDGET:
            return "msg_blocks_too_long", [f"{total} characters of block text"]
    if method in VIEW_METHODS:
        problems = view_problems(args.get("view"))
        if problems:
            return "invalid_arguments", problems
    return None
