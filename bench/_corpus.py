"""The words of the timeline benchmark's generated workspace: support phrases for
customers and agents, subjects, the channels' shares, made-up product names of
Zipf-like popularity, and the common words and pairs the searches use."""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = [
    "AGENT",
    "CHANNELS",
    "COMMON",
    "CUSTOMER",
    "FOLLOW",
    "OPENERS",
    "PAIRS",
    "SIGN",
    "SUBJECTS",
    "TextMaker",
    "product_words",
    "products_for",
]

OPENERS = [
    "Hi,",
    "Hello,",
    "Hi there,",
    "Good morning,",
    "Hello team,",
    "Hey,",
    "Dear support,",
    "Hi again,",
    "",
    "",
    "",
]
CUSTOMER = [
    "my order {o} has not arrived yet and the tracking page has not changed in days.",
    "I was charged twice for the {p}, please refund the duplicate payment.",
    "the {p} stopped working after the latest firmware update.",
    "I cannot log in to my account, the password reset link has expired.",
    "can you change the delivery address for order {o}?",
    "the {p} arrived damaged, the box was crushed during delivery.",
    "I would like to return the {p} and get a refund.",
    "is the {p} compatible with the {p2}?",
    "the invoice for order {o} shows the wrong VAT number.",
    "my subscription renewed although I cancelled it last month.",
    "the discount code is rejected at checkout.",
    "how long does shipping to Norway usually take?",
    "the app crashes when I open the settings page.",
    "I received the wrong colour of the {p}.",
    "please cancel order {o}, I ordered the {p} by mistake.",
    "the {p} battery drains within two hours.",
    "can I upgrade my plan and keep my data?",
    "where can I download the manual for the {p}?",
    "the replacement {p} you sent has the same problem.",
    "I still have not received my refund for order {o}.",
    "the courier left the parcel at the wrong address.",
    "two-factor codes are not arriving by SMS.",
    "I need a copy of the invoice for my accountant.",
    "the {p} makes a loud noise when it starts.",
]
FOLLOW = [
    "Thanks for your help.",
    "Any update on this?",
    "This is getting urgent.",
    "I attached a photo.",
    "Order number is {o}.",
    "I have been a customer for years.",
    "Please call me back.",
    "Thank you!",
    "It worked before the update.",
    "My colleague has the same issue with the {p2}.",
    "Still waiting for an answer.",
]
AGENT = [
    "Thanks for reaching out! I have checked order {o} and it is on its way.",
    "Sorry about that. I have issued a refund for the {p}, it takes 3-5 business days.",
    "Could you send us the serial number of the {p}?",
    "I have reset your password, please try the new link in your inbox.",
    "We have updated the delivery address on order {o}.",
    "A replacement {p} has been shipped, here is the return label for the damaged one.",
    "The {p} works with the {p2} after the latest update.",
    "I have cancelled the renewal and refunded the last charge.",
    "Our team is looking into the crash, we will get back to you shortly.",
    "Your invoice has been corrected and sent to your email address.",
]
SIGN = ["", "", "Best regards", "Thanks, Anna", "Cheers", "Kind regards, Ben"]
SUBJECTS = [
    "Order not delivered",
    "Refund request",
    "Damaged parcel",
    "Cannot log in",
    "Invoice question",
    "Return request",
    "Product question",
    "Subscription renewal",
    "App crashes",
    "Change delivery address",
    "Discount code",
    "Wrong item",
]
COMMON = ["order", "refund", "delivery", "password", "invoice", "update", "account"]
PAIRS = [
    "refund order",
    "password reset",
    "wrong address",
    "invoice vat",
    "firmware update",
    "parcel damaged",
    "delivery address",
    "return label",
]
CHANNELS = [("email", 0.5), ("api", 0.25), ("chat", 0.15), ("whatsapp", 0.1)]


def product_words(n: int, rng: random.Random) -> list[str]:
    """Pronounceable, unique, made-up product names: 'zorvex', 'kalimon'..."""
    onsets = [
        "b",
        "d",
        "f",
        "g",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "kr",
        "tr",
        "pl",
        "st",
        "qu",
        "x",
        "sh",
        "ch",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "eo", "y"]
    codas = ["", "n", "x", "r", "s", "l", "m", "th", "k", "nd"]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 3)))
        w += rng.choice(codas)
        if w not in seen and len(w) >= 5:
            seen.add(w)
            out.append(w)
    return out


def products_for(seed: int) -> list[str]:
    """The product vocabulary of a dataset: the same seed, the same words (for reused DBs)."""
    return product_words(4000, random.Random(seed * 7919 + 1))


class TextMaker:
    def __init__(self, rng: random.Random, products: Sequence[str]) -> None:
        self.rng = rng
        self.products = products
        # Zipf-like popularity: the first products are in ~10% of messages, the last in a handful.
        weights = [1.0 / (r + 1) ** 1.1 for r in range(len(products))]
        total = sum(weights)
        acc = 0.0
        self.cum = []
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def product(self) -> str:
        return self.rng.choices(self.products, cum_weights=self.cum, k=1)[0]

    def fill(self, template: str) -> str:
        if "{" not in template:
            return template
        return template.format(
            p=self.product(), p2=self.product(), o=f"#{self.rng.randint(100000, 9999999)}"
        )

    def customer(self) -> str:
        r = self.rng
        parts = [r.choice(OPENERS), self.fill(r.choice(CUSTOMER)).capitalize()]
        for _ in range(r.choice((0, 0, 1, 1, 2))):
            parts.append(self.fill(r.choice(FOLLOW)))
        parts.append(r.choice(SIGN))
        return " ".join(p for p in parts if p)

    def agent(self) -> str:
        r = self.rng
        return " ".join(p for p in ("Hi,", self.fill(r.choice(AGENT)), "Best, Acme Support") if p)
