"""TwiML for a support line: ring the agents on duty, else take a voicemail.

Built with stdlib ElementTree, which escapes text and attributes; attributes
are sorted and the declaration written as Twilio's SDK writes them, so tests can
compare our documents with the SDK's byte for byte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

__all__ = ["dial", "empty", "hangup", "voicemail"]

DIAL_TIMEOUT_SECONDS = 20
VOICEMAIL_MAX_SECONDS = 120  # Twilio transcribes recordings of up to two minutes
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _verb(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, name, {k: attrs[k] for k in sorted(attrs)})
    if text:
        el.text = text
    return el


def _document(root: ET.Element) -> str:
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def dial(numbers: Sequence[str], *, action: str, timeout: int = DIAL_TIMEOUT_SECONDS) -> str:
    """Ring every number at once; the first to pick up gets the caller.

    ``answerOnBridge`` keeps the caller hearing ringing (and unbilled) until an
    agent answers, and Twilio requests ``action`` when the dialed leg ends.
    """
    root = ET.Element("Response")
    verb = _verb(root, "Dial", action=action, answerOnBridge="true", timeout=str(timeout))
    for number in numbers:
        _verb(verb, "Number", number)
    return _document(root)


def voicemail(
    greeting: str,
    *,
    action: str,
    transcribe_callback: str,
    recording_callback: str,
    max_length: int = VOICEMAIL_MAX_SECONDS,
) -> str:
    root = ET.Element("Response")
    _verb(root, "Say", greeting)
    _verb(
        root,
        "Record",
        action=action,
        maxLength=str(max_length),
        playBeep="true",
        recordingStatusCallback=recording_callback,
        transcribe="true",
        transcribeCallback=transcribe_callback,
    )
    # Reached only when the caller records nothing before <Record> times out.
    _verb(root, "Hangup")
    return _document(root)


def hangup() -> str:
    root = ET.Element("Response")
    _verb(root, "Hangup")
    return _document(root)


def empty() -> str:
    """For callbacks that only inform us: Twilio ignores the body, but wants XML."""
    return _document(ET.Element("Response"))
