"""The intake checklist Threadline ships with: English, German, Spanish and French.

The patterns look for a fact where a customer names it ("order number 48213",
"Bestellnummer: A-10023", "mi pedido es el 55102", "numéro de commande : FR-2231")
rather than for any number, so an amount or a date is not taken for an order. A
label matches in any case (``(?i:…)``); a name keeps its capitals. The values are
shown to agents and never acted on, so a pattern errs on finding rather than missing.
tests/unit/test_intake.py holds the sentences each pattern must (and must not) read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_CHECKLIST_DATA"]

# Between a label and its value: "number:", "no.", "n°", "#", "is", "ist", "es el"…
_SEP = (
    r"(?:[ \t]{0,3}(?i:number|num(?:ber)?\.?|no\.?|nr\.?|nummer|n[°ºo]\.?|n[úu]mero|num[ée]ro|"
    r"id|ref(?:erence)?)\.?)?[ \t]{0,3}[:#=]?[ \t]{0,3}"
    r"(?:(?i:is|was|ist|war|lautet|es|era|est|[ée]tait|es el|est le)[ \t]{1,3})?[:#]?[ \t]{0,3}"
)
# An order, invoice or tracking reference: 4 to 30 letters, digits and dashes, one digit at least.
_REF = r"#?((?=[A-Za-z0-9-]{0,29}\d)[A-Za-z0-9][A-Za-z0-9-]{2,28}[A-Za-z0-9])(?![\w-])"
# A person's name: one to four capitalised words, with a particle between them.
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_NAME = (
    rf"([{_UPPER}][{_LOWER}'’-]{{1,20}}"
    rf"(?:[ \t]{{1,3}}(?:(?:de|del|la|van|von|der|da|di|du|le|y)[ \t]{{1,3}})?"
    rf"[{_UPPER}][{_LOWER}'’-]{{1,20}}){{0,3}})"
)
# The rest of a line or a sentence, as a value ("Lieferadresse: Hauptstr. 5, 10115 Berlin").
_REST = r"([^\n]{4,120})"

_ORDER = [
    r"(?i:\b(?:order|bestell(?:ung|-?nummer|-?nr\.?)?|auftrags(?:-?nummer|-?nr\.?)?|pedido|commande))"
    + _SEP
    + _REF,
    r"(?i:\b(?:n[úu]mero|num[ée]ro|n[º°o]\.?)[ \t]{0,3}de[ \t]{1,3}(?:pedido|commande))"
    + _SEP
    + _REF,
]
_INVOICE = [
    r"(?i:\b(?:invoice|rechnung(?:s-?nummer|s-?nr\.?)?|factura|facture))" + _SEP + _REF,
    r"(?i:\b(?:n[úu]mero|num[ée]ro|n[º°o]\.?)[ \t]{0,3}de[ \t]{1,3}(?:factura|facture))"
    + _SEP
    + _REF,
]
_HOLDER_LABELS = [
    r"(?i:name on the account|account (?:holder|name)|name of the account holder|"
    r"account is (?:in the name of|under)|in the name of)",
    r"(?i:kontoinhaber(?:in)?|name (?:auf|im) (?:dem |meinem )?(?:kunden)?konto|"
    r"das (?:kunden)?konto (?:l[äa]uft|ist) auf(?: den namen)?|auf den namen)",
    r"(?i:titular de la cuenta|nombre del titular|a nombre de)",
    r"(?i:titulaire du compte|nom du titulaire|au nom de)",
]
_HOLDER = [
    label + r"[ \t]{0,3}(?:(?i:is|ist|es|est|lautet)[ \t]{1,3})?[:\-]?[ \t]{0,3}" + _NAME
    for label in _HOLDER_LABELS
]
_CARD = [
    r"(?i:ending (?:in|with)|ends (?:in|with)|last (?:4|four) (?:digits)?(?: are| of)?"
    r"|endet (?:auf|mit)|letzten (?:4|vier) (?:ziffern|stellen)(?: sind| lauten)?"
    r"|terminada en|termina en|[úu]ltimos (?:4|cuatro) d[íi]gitos(?: son)?"
    r"|se terminant par|termin[ée]e par|finissant par|(?:4|quatre) derniers chiffres(?: sont)?)"
    r"[ \t:]{0,3}(\d{4})(?!\d)",
    r"(?<![*xX•])(?:\*{2,8}|[xX]{3,8}|•{2,8})[ \t-]?(\d{4})(?!\d)",
]
_TRACKING = [
    r"(?i:\btracking|sendungs(?:verfolgungs)?|paket|seguimiento|env[íi]o|suivi|colis)"
    + r"(?i:-?(?:nummer|nr\.?|code|id)?)"
    + _SEP
    + r"#?((?=[A-Za-z0-9]{0,33}\d)[A-Za-z0-9]{8,34})(?![\w-])",
    r"\b(1Z[0-9A-Z]{16})\b",  # UPS
]
_ADDRESS = [
    r"(?i:(?:delivery |shipping )?address|lieferadresse|adresse|anschrift|"
    r"direcci[óo]n(?: de (?:entrega|env[íi]o))?|adresse de livraison)"
    r"[ \t]{0,3}(?:is|ist|es|est)?[ \t]{0,3}:[ \t]{0,3}" + _REST,
    r"(?i:post ?code|zip(?: code)?|postal code|plz|postleitzahl|c[óo]digo postal|\bcp|code postal)"
    r"[ \t:]{0,3}(?:is|ist|es|est)?[ \t:]{0,3}([A-Z0-9]{2,5}[ -]?[A-Z0-9]{2,4})\b",
    # a UK postcode, written as people write it
    r"\b([A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2})\b",
    # "12 Main Street", "Hauptstraße 5", "Calle Mayor 3", "12 rue de la Paix"
    r"\b(\d{1,4}[ \t]{1,3}[A-Z][a-z]{1,20}(?:[ \t][A-Z][a-z]{1,20})?[ \t]{1,3}"
    r"(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive|Way))",
    r"\b([A-ZÄÖÜ][a-zäöüß]{1,30}(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse)"
    r"[ \t]{1,3}\d{1,4}[a-z]?)\b",
    r"\b((?:Calle|Avenida|Avda\.|Plaza|Paseo)[ \t]{1,3}[^\n,]{2,40}?[ \t]\d{1,4})\b",
    r"\b(\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]{1,3}"
    r"(?:rue|avenue|boulevard|bd|place|chemin|all[ée]e)[ \t][^\n,]{2,40})",
]
_DEVICE = [
    r"\b((?:(?:Samsung|Google|Apple|Microsoft)[ \t]{1,3})?"
    r"(?:iPhone|iPad|iPod|MacBook(?: Air| Pro)?|iMac|Pixel|Galaxy|Chromebook|Kindle|"
    r"Surface|ThinkPad|Xbox|PlayStation|Android|Windows|macOS|iOS|Linux|Ubuntu)"
    r"(?:[ \t]{1,3}(?:[A-Z0-9][\w.+-]{0,12}|Pro|Max|Plus|Mini|Ultra|Air)){0,3})",
    r"(?i:\b(?:device|model|product|ger[äa]t|modell|produkt|dispositivo|modelo|producto|"
    r"appareil|mod[èe]le|produit))[ \t]{0,3}:[ \t]{0,3}([^\n,;]{2,60})",
]
_ERROR = [
    r"(?i:error message|error|fehlermeldung|fehler|mensaje de error|message d'erreur|erreur)"
    r"(?: (?:says|reads|dice|sagt|indique|lautet))?[ \t]{0,3}:[ \t]{0,3}"
    # to the end of the sentence; a dot inside a word ("api.example.com") does not end it
    r"((?:[^\n.!?]|[.!?](?=\S)){3,160})",
    r"(?i:\b(?:error|fehler|erreur)(?:-?code|[ \t]{1,3}code)?|c[óo]digo de error)"
    r"[ \t]{0,3}:?[ \t]{0,3}"
    r"((?:0x[0-9A-Fa-f]{2,8}|[A-Z]{0,3}-?\d{2,6})(?![\w-]))",
    r"(?i:it says|es steht|sagt|dice|il est (?:[ée]crit|indiqu[ée])|ça dit)[ \t]{0,3}:?[ \t]{0,3}"
    r"[\"“„«']([^\"”“»'\n]{3,160})",
    r"(?i:(?:the )?(?:app|website|site|page|checkout|login) (?:crashes|keeps crashing|freezes|"
    r"won't load|doesn't load|does not load|is down|shows a blank)(?:[^\n.!?]|[.!?](?=\S)){0,80})",
    r"(?i:(?:st[üu]rzt ab|l[äa]dt nicht|h[äa]ngt sich auf|funktioniert nicht|se cierra|no carga|"
    r"no funciona|plante|ne charge pas|ne fonctionne pas|ne marche pas)"
    r"(?:[^\n.!?]|[.!?](?=\S)){0,80})",
]
_VERSION = [
    r"(?i:\b(?:app[ \t]{1,3})?(?:version|versi[óo]n|vers\.)|\bv)[ \t]{0,3}:?[ \t]{0,3}"
    r"(\d{1,4}(?:\.\d{1,4}){1,3})\b",
]
_PLAN = [
    r"\b((?i:pro|business|enterprise|premium|basic|starter|team|plus)[ -]"
    r"(?i:plan|tarif|paket|package|abo))\b",
    r"\b((?i:plan|tarifa|forfait|offre|formule|abonnement)[ \t](?i:pro|business|enterprise|premium|"
    r"basic|básico|starter|team|plus|entreprise|empresa))\b",
    r"(?i:interested in|looking for|interessiert an|interesse an|interesad[oa]s? en|"
    r"int[ée]ress[ée]e?s? par)[ \t]{1,3}"
    r"(?:(?i:the|your|a|an|dem|der|den|die|ihr(?:em|en)?|el|la|los|las|su|sus|le|les|"
    r"un|une|votre|vos)[ \t]{1,3})?"
    # up to the end of the phrase: "the Business plan for a team of 25"
    r"((?:(?!(?i:for|f[üu]r|para|pour|with|mit|con|avec|because|weil|porque|car)\b)"
    r"[^\n.,;!?]){2,60})",
]
_SIZE = [
    r"\b(\d{1,6}(?:[ \t]{0,3}\+)?)[ \t]{0,3}(?i:employees|people|staff|users|seats|agents|"
    r"mitarbeiter(?:innen)?|mitarbeitende|besch[äa]ftigte|personen|leute|nutzer|"
    r"empleados|personas|trabajadores|usuarios|agentes|"
    r"salari[ée]s|employ[ée]s|personnes|utilisateurs)\b",
    r"(?i:team of|company of|equipo de|empresa de|[ée]quipe de|team von|firma mit)[ \t]{1,3}"
    r"(\d{1,6})\b",
]

_ASK_TEMPLATE = {
    "en": "To look into this, could you send us {missing}?",
    "de": "Damit wir uns das ansehen können, senden Sie uns bitte {missing}.",
    "es": "Para revisarlo, ¿podría enviarnos {missing}?",
    "fr": "Pour que nous puissions regarder cela, pourriez-vous nous envoyer {missing} ?",
}


def _fact(key: str, label: str, ask: dict[str, str], patterns: list[str], **more: Any) -> Any:
    return {"key": key, "label": label, "ask": ask, "patterns": patterns, **more}


_ORDER_ASK = {
    "en": "your order number",
    "de": "Ihre Bestellnummer",
    "es": "su número de pedido",
    "fr": "votre numéro de commande",
}

DEFAULT_CHECKLIST_DATA: dict[str, Any] = {
    "billing": {
        "facts": [
            _fact(
                "order_number",
                "Order or invoice number",
                {
                    "en": "your order or invoice number",
                    "de": "Ihre Bestell- oder Rechnungsnummer",
                    "es": "su número de pedido o de factura",
                    "fr": "votre numéro de commande ou de facture",
                },
                [*_ORDER, *_INVOICE],
            ),
            _fact(
                "account_name",
                "Name on the account",
                {
                    "en": "the name on the account",
                    "de": "den Namen, auf den das Konto läuft",
                    "es": "el nombre del titular de la cuenta",
                    "fr": "le nom du titulaire du compte",
                },
                _HOLDER,
            ),
            _fact(
                "card_last4",
                "Last 4 card digits",
                {
                    "en": "the last 4 digits of the card",
                    "de": "die letzten 4 Ziffern der Karte",
                    "es": "los últimos 4 dígitos de la tarjeta",
                    "fr": "les 4 derniers chiffres de la carte",
                },
                _CARD,
                optional=True,
            ),
        ],
        "template": _ASK_TEMPLATE,
    },
    "logistics": {
        "facts": [
            _fact("order_number", "Order number", _ORDER_ASK, _ORDER),
            _fact(
                "tracking_number",
                "Tracking number",
                {
                    "en": "the tracking number",
                    "de": "die Sendungsnummer",
                    "es": "el número de seguimiento",
                    "fr": "le numéro de suivi",
                },
                _TRACKING,
                optional=True,
            ),
            _fact(
                "address",
                "Delivery address or postcode",
                {
                    "en": "the delivery address or postcode",
                    "de": "die Lieferadresse oder Postleitzahl",
                    "es": "la dirección de entrega o el código postal",
                    "fr": "l'adresse de livraison ou le code postal",
                },
                _ADDRESS,
            ),
        ],
        "template": _ASK_TEMPLATE,
    },
    "technical": {
        "facts": [
            _fact(
                "device",
                "Product or device",
                {
                    "en": "which product or device you are using",
                    "de": "welches Produkt oder Gerät Sie verwenden",
                    "es": "qué producto o dispositivo utiliza",
                    "fr": "le produit ou l'appareil que vous utilisez",
                },
                _DEVICE,
            ),
            _fact(
                "error",
                "Error message or what happened",
                {
                    "en": "the error message you see",
                    "de": "die Fehlermeldung, die Sie sehen",
                    "es": "el mensaje de error que ve",
                    "fr": "le message d'erreur affiché",
                },
                _ERROR,
            ),
            _fact(
                "app_version",
                "App version",
                {
                    "en": "the app version",
                    "de": "die App-Version",
                    "es": "la versión de la aplicación",
                    "fr": "la version de l'application",
                },
                _VERSION,
                optional=True,
            ),
        ],
        "template": _ASK_TEMPLATE,
    },
    "sales": {
        "facts": [
            _fact(
                "product",
                "Product or plan",
                {
                    "en": "which product or plan you are interested in",
                    "de": "für welches Produkt oder welchen Tarif Sie sich interessieren",
                    "es": "qué producto o plan le interesa",
                    "fr": "le produit ou la formule qui vous intéresse",
                },
                _PLAN,
            ),
            _fact(
                "company_size",
                "Company size",
                {
                    "en": "how many people would use it",
                    "de": "wie viele Personen es nutzen würden",
                    "es": "cuántas personas lo usarían",
                    "fr": "combien de personnes l'utiliseraient",
                },
                _SIZE,
                optional=True,
            ),
        ],
        "template": _ASK_TEMPLATE,
    },
    "other": {"facts": [], "template": {}},
}
