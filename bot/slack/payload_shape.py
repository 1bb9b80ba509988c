"""The shape Slack promises for the payloads Siteline handles, checked before bolt dispatches one.

A signed body is Slack's own, but bolt and our listeners index into it freely (`body["user"]["id"]`,
`actions[0].get(...)`): a signed body of the wrong shape would fail deep inside and answer 500. Only
the structure is checked here (which keys hold objects, lists or strings), not the meaning, so a
payload Slack adds fields to keeps working.
"""

from __future__ import annotations

from typing import Any

# key -> the type its value must have wherever the key appears at that level
TOP: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "token": str,
    "team": (dict, type(None)),
    "team_id": str,
    "enterprise": (dict, type(None)),
    "user": dict,
    "user_id": str,
    "channel": dict,
    "channel_id": str,
    "container": dict,
    "message": dict,
    "view": dict,
    "actions": list,
    "authorizations": list,
    "event": dict,
    "event_id": str,
    "challenge": str,
    "command": str,
    "text": str,
    "trigger_id": str,
    "response_url": str,
    "callback_id": str,
    "api_app_id": str,
    "state": dict,
}
EVENT: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "subtype": str,
    "user": str,
    "bot_id": str,
    "channel": str,
    "channel_type": str,
    "text": str,
    "ts": str,
    "thread_ts": str,
    "event_ts": str,
    "tab": str,
    "item": dict,
    "message": dict,
    "previous_message": dict,
    "blocks": list,
    "files": list,
}
NESTED_IDS = ("user", "channel", "team", "enterprise")  # objects whose `id` must be a string
REQUIRED_IN_EVENT = {"app_mention": ("user", "channel", "text", "ts"), "message": ("channel", "ts")}


def problem(body: Any) -> str | None:
    """What is wrong with the payload's shape, or None when bolt and the listeners can take it."""
    if not isinstance(body, dict) or not body:
        return "not a JSON object"
    if not isinstance(body.get("type", body.get("command", "")), str):
        return "type"
    found = _wrong(body, TOP, "")
    if found:
        return found
    for key in NESTED_IDS:
        value = body.get(key)
        if isinstance(value, dict) and not isinstance(value.get("id", ""), str):
            return f"{key}.id"
    for key in ("actions", "authorizations"):
        if not all(isinstance(item, dict) for item in body.get(key, [])):
            return f"{key}[]"
    for item in body.get("actions", []):
        found = _wrong(item, {"action_id": str, "block_id": str, "value": str, "type": str}, "actions[].")
        if found:
            return found
    view = body.get("view")
    if body.get("type") in ("view_submission", "view_closed") and not isinstance(view, dict):
        return "view"
    if isinstance(view, dict):
        if "type" not in view:  # bolt reads it for every view payload
            return "view.type"
        found = _wrong(view, {"id": str, "type": str, "callback_id": str, "private_metadata": str, "state": dict,
                              "hash": str}, "view.")  # fmt: skip
        if found:
            return found
        values = view.get("state", {}).get("values", {})
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            return "view.state.values"
        if not all(isinstance(a, dict) for block in values.values() for a in block.values()):
            return "view.state.values"
    event = body.get("event")
    if isinstance(event, dict):
        found = _wrong(event, EVENT, "event.")
        if found:
            return found
        missing = [k for k in REQUIRED_IN_EVENT.get(str(event.get("type")), ()) if k not in event]
        if missing:
            return f"event.{missing[0]}"
    return None


def _wrong(node: dict[str, Any], shapes: dict[str, type | tuple[type, ...]], prefix: str) -> str | None:
    for key, shape in shapes.items():
        if key in node and not isinstance(node[key], shape):
            return prefix + key
    return None
