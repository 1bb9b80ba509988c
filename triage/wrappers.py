"""How a message was passed on, taken off so the dedupe compares what it says.

A reminder, resend or forward wraps the same message: subject prefixes ("FW:", "RE: FW:",
"2nd REMINDER –", "[Resend]", "URGENT!!!"), a short note on top ("Please see below from the
sponsor"), a quoted mail header (Outlook, Gmail, Apple Mail) or "> " quoting, and around every
message a greeting and a sign-off with a signature. `split_forward` separates the note from the
original it carries; `strip_letter` removes the greeting and the sign-off of one message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Prefixes saying the message is passed on again: "FW:", "RE: FW:", "2nd REMINDER –", "[Resend]", ...
_REPEAT_WORDS = (
    r"(?:re|fw|fwd|tr|wg|aw|sv|vs|rv|fyi|fyr)\s*:"
    r"|\[[^\]]{0,20}(?:resen[dt]|re-?sen[dt]|remind|reminder|fwd?|forward|repost|follow[- ]?up)[^\]]{0,20}\]"
    r"|(?:(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|final|last|friendly|gentle|kind|quick|urgent|"
    r"important|another|follow[- ]?up)\s+)*reminder\s*(?:#?\d+)?\s*(?:[:\-–—!]+|$)"
    r"|re-?send(?:ing)?(?:\s+(?:in case you missed it|again|for visibility|for your attention))?\s*[:\-–—!]"
    r"|re-?sent\s*[:\-–—]|repost(?:ed|ing)?\s*[:\-–—]"
    r"|rappel\s*[:\-–—]|recordatorio\s*[:\-–—]|lembrete\s*[:\-–—]|erinnerung\s*[:\-–—]"
    r"|follow[- ]?up\s*[:\-–—]|(?:first|second|third|final|last)\s+notice\s*[:\-–—]"
    r"|(?:forwarded|forwarding)\s*[:\-–—]"
)
# Prefixes that only restate the sender's flag ("URGENT!!!", "IMPORTANT:", "ACTION REQUIRED:", "ASAP:")
# or tag the mail ("[EXTERNAL]"): not a repeat, but not what the message says either.
_SHOUT_WORDS = (
    r"\[[^\]]{0,30}\]"
    r"|(?:urgent[ea]?|important[ea]?|action required|action needed|attention|asap|time[- ]sensitive|"
    r"high priority|please read)\s*(?:!+|:|\*+|[\-–—|])"
)
_DECORATION = re.compile(r"^[\s!*#~=>]+")  # "*** ACTION REQUIRED ***", "!!! Reminder !!!"
_REPEAT = re.compile(rf"^\s*(?:{_REPEAT_WORDS})\s*", re.IGNORECASE)
_PREFIX = re.compile(rf"^\s*(?:{_REPEAT_WORDS}|{_SHOUT_WORDS})\s*", re.IGNORECASE)
# Words of a note that passes a message on ("Please see below from the sponsor", "Heads-up from ...").
_RELAY = re.compile(
    r"\b(?:remind(?:er|ing)?|re-?send(?:ing)?|re-?sent|(?<!look )(?<!looking )forward(?:ed|ing)?|fwd"
    r"|in case you missed|see below"
    r"|(?:from|by) the (?:study )?sponsor|the sponsor(?:'s| has| have| asks| requests| informed| is asking)"
    r"|sponsor's (?:message|note|notice|letter|e-?mail|request|mail)|on behalf of|heads[- ]up|passing (?:this )?"
    r"(?:on|along)|relaying|sharing (?:the|this)|still (?:open|pending|outstanding)|follow(?:ing)? up on|nudge"
    r"|as (?:announced|communicated|sent|shared) (?:earlier|previously|before|last week))\b",
    re.IGNORECASE,
)

# Where a forwarded or replied-to original starts.
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|original message|mensagem original|mensaje original|message d'origine)"
    r"[\s\-]*|_{5,}|begin forwarded message:?|(?:on|le|am|el|em) .{0,150}(?:wrote|a écrit|schrieb|escribió|escreveu):)"
    r"\s*$",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"^\s*(?:from|sent|date|to|cc|bcc|subject|importance|attachments?|de|envoyé|à|objet|von|gesendet|an|betreff|"
    r"para|enviado|asunto|assunto|data)\s*:.*$",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*(?:from|de|von)\s*:", re.IGNORECASE)
_SUBJECT = re.compile(r"^\s*(?:subject|objet|betreff|asunto|assunto)\s*:", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>+ ?")

_GREETING = re.compile(
    r"^\s*(?:(?:dear|hi|hello|hey|hiya|hola|ol[áa]|hei|hallo|bonjour|ciao|kia ora|respected|greetings|good "
    r"(?:morning|afternoon|evening|day))\b[^\n]{0,80}[,:!]|(?:all|team|everyone|colleagues|folks)\s*[,:!]?)\s*$",
    re.IGNORECASE,
)
_SIGNOFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many|with best|with kind)\s+)?(?:regards|wishes|thanks|thank you|thanks "
    r"(?:and|&) regards|cheers|sincerely|best|br|kr|thx|obrigad[oa]|abraços|abs|saludos|gracias|un saludo|"
    r"cordialement|bien à vous|viele grüße|vg|mit freundlichen grüßen|liebe grüße|terveisin|ystävällisin terveisin"
    r"|ngā mihi|with gratitude|yours(?: sincerely| truly)?|thanks heaps|thanks again|have a (?:great|nice|good) "
    r"\w+|happy \w+|enjoy(?: reading)?|talk soon|speak soon)\b[^\n]{0,40}$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 6


@dataclass(frozen=True)
class Forward:
    """A message split into the note written on top and the original it passes on ("" if none)."""

    note: str
    original: str


def is_relay(subject: str, body: str) -> bool:
    """Whether a message says it passes something on again (a repeat prefix, a quoted original, or
    relay words such as "Please see below from the sponsor" near its start)."""
    if _REPEAT.match(_DECORATION.sub("", subject)) or _REPEAT.match(_strip_shout(subject)):
        return True
    forward = split_forward(body)
    if forward.original:
        return True
    head = " ".join(body.split()[:60])
    return bool(_RELAY.search(head))


def _strip_shout(subject: str) -> str:
    previous = None
    text = _DECORATION.sub("", subject)
    while previous != text:
        previous = text
        text = _DECORATION.sub("", text)
        text = re.sub(rf"^\s*(?:{_SHOUT_WORDS})\s*", "", text, count=1, flags=re.IGNORECASE).strip()
    return text


def strip_prefixes(subject: str) -> str:
    """The subject without any chain of FW:/RE:/Reminder:/[tag]/URGENT!!! prefixes."""
    previous = None
    text = subject.strip()
    while previous != text:
        previous = text
        text = _PREFIX.sub("", _DECORATION.sub("", text), count=1).strip()
    return text


def _header_block_at(lines: list[str], i: int) -> bool:
    """A "From:" line followed within a few lines by a "Subject:" line: a quoted mail header."""
    return bool(_FROM.match(lines[i])) and any(_SUBJECT.match(x) for x in lines[i + 1 : i + 7])


def split_forward(body: str) -> Forward:
    """Separate a forward's or reply's note from the (innermost) original it quotes."""
    lines = body.splitlines()
    start = None
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line) or _header_block_at(lines, i):
            start = i
            break
    if start is not None:
        j = start + (0 if _header_block_at(lines, start) else 1)
        while j < len(lines) and (not lines[j].strip() or _HEADER.match(lines[j])):
            j += 1
        original = "\n".join(lines[j:]).strip()
        if len(original.split()) >= 5:
            note = "\n".join(lines[:start]).strip()
            inner = split_forward(original)  # "RE: FW:": the original of the original
            if inner.original:
                return Forward(f"{note}\n\n{inner.note}".strip(), inner.original)
            return Forward(note, original)
    quoted = [i for i, line in enumerate(lines) if _QUOTED.match(line)]
    if len(quoted) >= 2:
        original = "\n".join(_QUOTED.sub("", lines[i]) for i in quoted).strip()
        if len(original.split()) >= 8:
            note = "\n".join(line for i, line in enumerate(lines) if i not in set(quoted)).strip()
            return Forward(note, original)
    return Forward(body.strip(), "")


def strip_letter(text: str) -> str:
    """One message without its greeting line and its sign-off (and the signature under it)."""
    lines = [ln.rstrip() for ln in text.strip().splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    if len(lines) > 1 and _GREETING.match(lines[0]) and len(lines[0].split()) <= 12 and not _digits(lines[0]):
        lines.pop(0)
    cut = None
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - _MAX_SIGNATURE_LINES - 1), -1):
        if _SIGNOFF.match(lines[i]) and len(lines[i].split()) <= 6 and not _digits(lines[i]):
            cut = i
    lines = lines[:cut] if cut is not None and cut > 0 else _drop_signature(lines)
    return "\n".join(lines).strip()


def _drop_signature(lines: list[str]) -> list[str]:
    """A last paragraph of short lines without sentence punctuation is a signature ("Ana", "Clinical
    Supply Team / Northwind Oncology"), unless it is a list."""
    while lines and not lines[-1].strip():
        lines.pop()
    end = len(lines)
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = lines[start:end]
    if start == 0 or not block or len(block) > 4:
        return lines
    for line in block:
        s = line.strip()
        if len(s.split()) > 9 or s[-1] in ".!?:;" or s[0] in "-•*" or _digits(s):
            return lines
    return lines[:start]


def _digits(line: str) -> bool:
    """Lines with numbers are never dropped as greeting or signature: they may carry a key."""
    return any(c.isdigit() for c in line)
