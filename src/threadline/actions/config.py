"""Settings the actions need, handed in by bootstrap (actions never read the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from threadline.actions.intake import IntakeCache
from threadline.actions.lexicon import LexiconCache
from threadline.core.continuity import Policy
from threadline.core.intake import DEFAULT_CHECKLIST, Checklist
from threadline.core.lexicon import Lexicon
from threadline.core.triage import DEFAULT_LEXICON

__all__ = ["ActionConfig"]


@dataclass(frozen=True, slots=True)
class ActionConfig:
    secret_key: str
    continuity: Policy = field(default_factory=Policy)
    # None keeps attachment bytes in the database; a directory stores them on
    # disk by content hash, which keeps the database small for busy inboxes.
    attachment_dir: Path | None = None
    delivery_attempts: int = 6
    # How long an agent's chat reply may stay unread before it is mailed
    # (Settings.chat_followup_seconds; jobs/chat_mail.py).
    chat_followup_seconds: float = 120.0
    # The time_passed sweep (actions/rule_sweep.py): how often, in seconds, and how
    # many conversations one sweep job reads (Settings.rules_sweep_*).
    time_passed_every: float = 60.0
    time_passed_batch: int = 500
    # The keyword lists triage classifies every inbound message with, until an admin
    # saves others (then ``lexicons`` holds the stored one in force: actions/lexicon.py).
    lexicon: Lexicon = DEFAULT_LEXICON
    lexicons: LexiconCache = field(default_factory=LexiconCache, compare=False, hash=False)
    # The facts each category needs before work starts (docs/intake.md), until an admin
    # saves others (``intakes`` holds the stored one in force: actions/intake.py).
    intake: Checklist = DEFAULT_CHECKLIST
    intakes: IntakeCache = field(default_factory=IntakeCache, compare=False, hash=False)
