"""Rule evaluation throughput: 200 active rules against a corpus of customer messages,
single core, in process (core/rules_eval.py; no database).

    python bench/rules.py [--rules 200] [--messages 20000] [--rounds 5] [--seed 7]

The rules are generated with a realistic mix: routing on words in the text (in
English, German, Spanish and French), on category and urgency, on customer
attributes and tags, off-hours replies, inbox-specific rules, and rules for the
other events (status changes, SLA warnings), which a message never looks at. Each
message gets facts like the ones a desk sees: a channel by the usual shares, an
inbox, a category, urgency a tenth of the time, a priority, a few tags and
attributes, and business hours open two thirds of the time.

It prints messages/s (the best of the rounds), µs per message and how many
actions matched per message, with the target: 20,000 messages/s for triage and
rules together leaves 50 µs per message, and rules should take at most half.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _corpus import CHANNELS, TextMaker, product_words

from threadline.core.rules import Facts, Rule
from threadline.core.rules_eval import compile_rules, evaluate
from threadline.core.rules_parse import parse_rule

TARGET = 40_000  # messages/s: 25 µs, half the budget of 20,000 messages/s with triage

TERMS = [
    "refund", "charged twice", "card declined", "invoice", "chargeback", "cancel",
    "cancellation", "not arrived", "tracking", "damaged", "broken", "outage", "down",
    "password", "login", "verify my account", "urgent", "lawyer", "unsubscribe",
    "rückerstattung", "rechnung", "kündigen", "lieferung", "passwort", "dringend",
    "reembolso", "factura", "cancelar", "envío", "contraseña", "urgente",
    "remboursement", "facture", "annuler", "livraison", "mot de passe", "colis",
    "price", "quote", "discount", "upgrade", "trial", "demo", "api key", "error 500",
    "duplicate payment", "wrong item", "return label", "exchange", "warranty",
]  # fmt: skip
CATEGORIES = ["sales", "billing", "technical", "logistics", "other"]
TAGS = ["vip", "reseller", "beta", "churn risk", "enterprise", "trial", "press"]
PLANS = ["free", "pro", "business", "enterprise"]
CHANNEL_NAMES = [c for c, _ in CHANNELS] + ["sms", "messenger", "instagram", "telegram"]


def make_rule(i: int, rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(
        ["text", "category", "customer", "hours", "inbox", "other_event"],
        weights=[35, 20, 15, 10, 10, 10],
    )[0]
    rule: dict[str, Any] = {
        "id": i + 1,
        "name": f"{kind} rule {i + 1}",
        "events": ["message_received"],
        "position": i,
        "conditions": [],
        "actions": [{"add_tag": rng.choice(TAGS)}],
    }
    conditions: list[dict[str, Any]] = rule["conditions"]
    if rng.random() < 0.6:
        conditions.append({"channel": rng.sample(CHANNEL_NAMES, rng.randint(1, 3))})
    if kind == "text":
        conditions.append({"text": rng.sample(TERMS, rng.randint(2, 6))})
        if rng.random() < 0.5:
            conditions.append({"category": rng.sample(CATEGORIES, 2)})
        rule["actions"].append({"assign_team": rng.randint(1, 6)})
    elif kind == "category":
        conditions.append({"category": rng.sample(CATEGORIES, rng.randint(1, 2))})
        conditions.append({"any": [{"urgent": True}, {"priority": ["high", "urgent"]}]})
        rule["actions"].append({"set_priority": "urgent"})
    elif kind == "customer":
        conditions.append({"attribute": {"key": "plan", "op": "in", "value": rng.sample(PLANS, 2)}})
        conditions.append({"tags": {"any": rng.sample(TAGS, 2)}})
        rule["actions"].append({"set_escalation": 2})
    elif kind == "hours":
        conditions.append({"business_hours": "closed"})
        conditions.append({"category": [rng.choice(CATEGORIES)]})
        rule["actions"].append({"reply": "Thanks, we are closed now and answer tomorrow."})
    elif kind == "inbox":
        conditions.append({"inbox": [rng.randint(1, 12)]})
        conditions.append({"assigned": False})
        rule["actions"].append({"assign_agent": rng.randint(1, 20)})
    else:
        rule["events"] = [
            rng.choice(["status_changed", "sla_warning", "sla_breach", "time_passed"])
        ]
        conditions.append({"status": ["open", "pending"]})
        rule["actions"].append({"notify": {"teams": [rng.randint(1, 6)]}})
    return rule


def make_facts(rng: random.Random, maker: TextMaker) -> Facts:
    channels, weights = zip(*CHANNELS, strict=True)
    return Facts(
        channel=rng.choices(channels, weights=weights)[0],
        inbox_id=rng.randint(1, 12),
        category=rng.choice(CATEGORIES),
        urgent=rng.random() < 0.1,
        sensitive=rng.random() < 0.05,
        priority=rng.choices(["low", "normal", "high", "urgent"], weights=[1, 6, 2, 1])[0],
        tags=frozenset(rng.sample(TAGS, rng.choice((0, 0, 0, 1, 2)))),
        attributes={"plan": rng.choice(PLANS), "country": rng.choice(["de", "fr", "es", "us"])},
        text=maker.customer(),
        open_now=rng.random() < 0.66,
        assigned=rng.random() < 0.3,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rules: list[Rule] = [parse_rule(make_rule(i, rng)) for i in range(args.rules)]
    compiled = compile_rules(rules)
    maker = TextMaker(rng, product_words(300, rng))
    corpus = [make_facts(rng, maker) for _ in range(args.messages)]
    best = float("inf")
    matched = 0
    for _ in range(args.rounds):
        matched = 0
        start = time.perf_counter()
        for facts in corpus:
            matched += len(evaluate(compiled, "message_received", facts))
        best = min(best, time.perf_counter() - start)
    rate = len(corpus) / best
    print(f"Python {sys.version.split()[0]}, one core, {compiled.count} active rules")
    print(
        f"rules: {rate:,.0f} messages/s, {best / len(corpus) * 1e6:.2f} µs/message, "
        f"{matched / len(corpus):.2f} actions matched per message "
        f"(best of {args.rounds} rounds over {len(corpus):,} messages)"
    )
    met = "MET" if rate >= TARGET else "MISSED"
    print(f"  target: >= {TARGET:,} messages/s (25 µs, half of triage + rules' 50 µs): {met}")


if __name__ == "__main__":
    main()
