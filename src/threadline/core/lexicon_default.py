"""The lexicon Threadline ships with: English, German, Spanish and French.

Terms are folded (lower case, no accents) before matching, so write them as a
person would. A trailing ``*`` matches any ending ('refund*': refunds, refunded),
which also covers most German compounds that start with the term. Where a
phrase carries the meaning and its words alone do not ('card declined'), list the
phrase: the longest term at a position wins.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_LEXICON_DATA"]

# fmt: off
_SALES = [
    # en
    "gibt es das", "auch in", "compr*", "achet*", "j'achete", "installation",
    "in stock", "back in stock", "stock", "do you have", "do you sell", "gift card*",
    "promo*", "difference between", "premium", "pro plan", "business plan", "sell",
    "on sale", "next sale", "in size", "like to order", "kostenlos*", "testphase",
    "unterschied zwischen",
    "habt ihr", "haben sie", "wieder da", "gerne bestellen", "gratis", "prueba",
    "diferencia entre", "tienen la", "tienen el", "en stock", "queremos comprar",
    "combien", "essai", "remise*", "dispo", "difference entre", "vous avez la",
    "vous avez le", "aimerions commander",
    "pricing", "price list", "prices", "quote", "quotation", "discount*", "demo",
    "trial", "free trial", "enterprise plan", "upgrade*", "buy", "purchase",
    "how much", "cost", "bulk order", "wholesale", "reseller", "partnership",
    "volume discount", "license*", "licence*", "seats", "annual plan", "sales team",
    "promo code", "coupon", "in stock", "available in", "do you ship to", "catalog*",
    "catalogue", "brochure", "offer", "special offer", "interested in",
    # de
    "preis*", "angebot*", "rabatt*", "kaufen", "bestellen moechte", "kostet",
    "kosten", "testversion", "lizenz*", "großbestellung", "mengenrabatt",
    "gutschein*", "interesse an", "verfugbar", "lieferbar", "katalog*",
    # es
    "precio*", "presupuesto", "cotizacion", "descuento*", "comprar", "cuanto cuesta",
    "cuesta", "prueba gratuita", "licencia*", "al por mayor", "mayorista",
    "distribuidor", "interesado en", "interesada en", "cupon", "codigo promocional",
    "disponible en", "catalogo", "oferta*",
    # fr
    "prix", "tarif*", "devis", "reduction", "acheter", "combien coute",
    "combien ca coute", "essai gratuit", "licence", "grossiste", "revendeur",
    "interesse par", "interessee par", "code promo", "promotion", "disponible",
]

_BILLING = [
    # en
    "late payment", "payment reminder", "overdue", "mahnung*", "zahlungserinnerung",
    "impago", "impagad*", "relance", "impaye*", "cobr*", "billed", "invoiced",
    "charge", "charges", "charged", "charging", "receipt*", "unpaid", "money",
    "paying", "billing address", "card on file", "auto renew*", "renew*",
    "don't recognise", "don't recognize", "geld", "abgezogen", "hinterlegt",
    "quitaron", "de baja", "no reconozco", "registrada", "carte", "resili*",
    "ne reconnais pas", "nicht zuordnen",
    "invoice*", "bill", "billing", "billed", "charged twice",
    "double charged", "card declined", "declined", "payment*", "pay", "paid",
    "refund*", "money back", "subscription", "renewal", "auto-renew*", "receipt",
    "credit card", "debit card", "bank transfer", "direct debit", "vat", "tax",
    "overcharged", "price increase", "chargeback", "paypal", "credit note",
    "cancel my subscription", "unsubscribe from plan", "pro rata", "prorated",
    # de
    "rechnung*", "abbuchung*", "abgebucht", "zahlung*", "bezahl*", "gezahlt",
    "erstattung", "ruckerstattung", "geld zuruck", "abo", "abonnement*",
    "kreditkarte*", "lastschrift*", "uberweisung", "mehrwertsteuer", "mwst",
    "gutschrift", "kundigung*", "kundigen", "doppelt abgebucht", "karte abgelehnt",
    "verlangerung",
    # es
    "factura*", "cobro*", "cobrado*", "cobraron", "cargo*", "pago*", "pagar", "pague",
    "reembolso*", "devolucion del dinero", "suscripcion", "tarjeta*", "rechazad*",
    "transferencia", "domiciliacion", "iva", "recibo", "renovacion", "cobrar",
    # fr
    "factur*", "prelev*", "paiement*", "payer", "paye", "rembours*", "abonnement",
    "carte bancaire", "carte refusee", "carte de credit", "refuse", "virement",
    "tva", "debite*", "resilier", "resiliation", "renouvellement",
]

_TECHNICAL = [
    # en
    "images", "image", "photos", "export*", "csv", "spam", "email address",
    "e-mail-adresse", "konto*", "imagenes", "codigo*", "acceso", "codes", "affich*",
    "login codes", "error message", "fehlermeldung", "mensaje de error", "message d'erreur",
    "the update", "last update", "latest update", "bot", "widget", "language", "user*",
    "link", "checkout", "card reader", "connect*", "dashboard", "platform",
    "authenticat*", "doesn't reply", "not responding", "stopped working",
    "can't get in", "can't get into", "get into my account",
    "sprache", "benutzer*", "kassensystem", "reagiert nicht", "sturzt*", "weisse seite",
    "zwei-faktor*", "bestatigungscode", "dashboard", "nicht mehr", "plattform",
    "idioma", "usuario*", "enlace", "datafono", "no responde", "pagina en blanco",
    "dejo de funcionar", "dos pasos", "codigo de verificacion", "no puedo acceder",
    "no puedo entrar", "plataforma", "panel",
    "langue", "utilisateur*", "lien", "caisse", "ne repond plus", "page blanche",
    "double authentification", "code de verification", "connect*", "plateforme",
    "tableau de bord", "acceder",
    "error", "bug", "crash*", "not working", "doesn't work", "does not work",
    "broken", "login", "log in", "sign in", "password", "reset", "app", "website",
    "site is down", "outage", "down", "server", "api", "integration", "sync*",
    "install*", "loading", "load", "slow", "timeout", "500", "404",
    "settings", "configure", "setup", "set up", "feature", "export", "import",
    "two-factor", "2fa", "verification code", "firmware", "device", "bluetooth",
    "wifi", "wi-fi", "screen", "freez*", "blank page", "won't open", "can't open",
    "keeps logging me out", "account locked", "locked out", "browser",
    # de
    "fehler*", "funktioniert nicht", "geht nicht", "absturz", "sturzt ab",
    "abgesturzt", "anmeld*", "einlogg*", "passwort", "kennwort", "zurucksetzen",
    "webseite", "storung", "ausfall", "server", "schnittstelle", "synchronis*",
    "installier*", "einstellung*", "laedt nicht", "ladt nicht", "gerat",
    "bildschirm", "langsam", "hangt", "gesperrt",
    # es
    "error*", "fallo*", "falla*", "no funciona", "no me deja", "se cierra",
    "iniciar sesion", "contrasena", "restablecer", "aplicacion", "la app", "pagina web",
    "caido", "caida", "servidor", "integracion", "sincroniz*", "instalar", "configur*",
    "no carga", "lento", "bloquead*", "pantalla", "dispositivo", "actualizacion",
    # fr
    "erreur*", "bogue", "plante", "ne fonctionne pas", "ne marche pas", "marche plus",
    "connexion", "se connecter", "mot de passe", "reinitialiser", "application",
    "site web", "site est en panne", "en panne", "panne", "serveur", "integration",
    "synchronis*", "installer", "parametre*", "ne charge pas", "lent", "bloque",
    "ecran", "appareil", "mise a jour",
]

_LOGISTICS = [
    # en
    "the box", "box you sent", "caja", "carton", "karton*", "delivery day",
    "dia de entrega", "jour de livraison", "liefertag", "unterwegs", "en camino", "en route",
    "my order", "order number", "of order", "smashed", "in pieces", "crushed",
    "missing", "old address", "got the wrong", "received the wrong", "sent the wrong", "wrong one",
    "bestellung*", "zerbrochen", "nichts angekommen", "fehlen", "andere adresse",
    "recoger", "destrozad*", "faltan", "otra direccion", "commande*", "livr*",
    "ecrase*", "manquant*", "rien recu", "autre adresse",
    "shipping", "shipment", "shipped", "ship", "delivery", "deliver*", "package",
    "parcel", "tracking*", "track my", "courier", "dhl", "ups", "fedex", "usps",
    "dpd", "hermes", "gls", "arrived", "not arrived", "hasn't arrived",
    "never arrived", "lost", "damaged", "broken on arrival", "wrong item",
    "wrong size", "missing item", "return*", "exchange", "where is my order",
    "order status", "dispatch*", "warehouse", "pickup", "pick up", "address",
    "late", "delayed", "stuck in transit", "customs", "postage",
    # de
    "lieferung*", "liefer*", "versand*", "versendet", "verschickt", "paket*",
    "sendung*", "sendungsnummer", "sendungsverfolgung", "zustell*", "angekommen",
    "nicht angekommen", "beschadigt", "kaputt", "falsche artikel", "falscher artikel",
    "falsche grosse", "rucksend*", "retour*", "umtausch*", "wo ist meine bestellung",
    "bestellstatus", "lager", "abholung", "adresse", "verspat*", "zoll",
    # es
    "envio*", "enviado", "entrega*", "entregado", "paquete*", "pedido*", "seguimiento",
    "mensajero", "transportista", "no ha llegado", "no llego", "llego", "perdido",
    "danado", "roto", "articulo equivocado", "producto equivocado", "talla equivocada",
    "devolver", "devolucion", "cambio de talla", "donde esta mi pedido", "almacen",
    "recogida", "direccion", "retrasad*", "retraso", "aduana",
    # fr
    "livraison*", "livre", "livree", "expedi*", "envoye", "colis", "suivi",
    "numero de suivi", "transporteur", "la poste", "chronopost", "colissimo",
    "pas arrive", "pas recu", "jamais recu", "perdu", "abime", "endommage",
    "casse", "mauvais article", "mauvaise taille", "retour*", "renvoyer", "echange*",
    "ou est ma commande", "entrepot", "point relais", "adresse", "en retard",
    "retard*", "douane",
]

_URGENT = [
    # explicit
    "gekundigt", "annul*", "late payment", "payment reminder", "final notice", "overdue",
    "mahnung*", "zahlungserinnerung", "impago", "impagad*", "relance", "impaye*",
    "don't load", "doesn't load", "won't load", "not loading", "no cargan", "no carga",
    "ne s'affichent plus", "ne s'affiche plus", "ne s'affiche pas", "laden nicht",
    "ladt nicht", "laedt nicht", "customers are complaining", "customers can't",
    "clientes se quejan", "clientes no pueden", "clients ne peuvent", "kunden konnen nicht",
    "kunden beschweren", "kann nichts", "kann nicht mehr", "empty", "vacia", "vacio",
    "est vide", "colis vide", "carton vide", "leer", "renewed anyway", "verlangert obwohl",
    "still hasn't", "still not", "still no", "immer noch nicht", "noch nicht da",
    "toujours rien", "toujours pas", "todavia nada", "todavia no", "aun no",
    "smashed", "in pieces", "crushed", "zerbrochen", "kaputt", "destrozad*", "roto",
    "ecrase*", "casse", "missing", "fehlen", "faltan", "manquant*",
    "got the wrong", "received the wrong", "sent the wrong", "wrong one", "old address",
    "andere adresse",
    "otra direccion", "autre adresse", "nichts angekommen", "rien recu",
    "stopped working", "dejo de funcionar", "ne marche plus", "nicht mehr",
    "we can't", "we cannot", "can't use", "no podemos", "on ne peut", "nous ne pouvons",
    "wir konnen nicht", "wir konnen nichts", "blocking", "bloquant", "losing",
    "can't get in", "can't get into", "ne peux plus", "ya no puedo", "komme nicht",
    "crash*", "plante", "se cierra", "sturzt*", "lost package", "lost parcel",
    "got lost", "took money", "never ordered", "don't recognise", "don't recognize",
    "no reconozco", "ne reconnais pas", "nicht zuordnen", "keep charging",
    "still charging", "de baja", "anular*", "resili*", "never shop", "never buy",
    "never again", "nie wieder", "nunca mas", "no vuelvo", "plus jamais",
    "ne remettrai plus", "leave you", "will leave", "i'm leaving",
    "urgent", "urgently", "asap", "as soon as possible", "immediately",
    "emergency", "critical", "dringend", "sofort", "notfall", "so schnell wie moglich",
    "urgente", "urgencia", "inmediatamente", "cuanto antes", "lo antes posible",
    "de inmediato", "immediatement", "au plus vite", "des que possible", "tout de suite",
    # payment failures
    "card declined", "declined", "payment failed", "payment failure", "charged twice",
    "double charged", "double charge", "overcharged", "unauthorized charge",
    "fraud*", "karte abgelehnt", "abgelehnt", "zahlung fehlgeschlagen",
    "doppelt abgebucht", "zweimal abgebucht", "tarjeta rechazada", "rechazad*",
    "pago fallido", "cobrado dos veces", "cobraron dos veces", "doble cobro",
    "carte refusee", "paiement refuse", "paiement echoue", "debite deux fois",
    "preleve deux fois", "double prelevement",
    # shipping errors
    "wrong item", "wrong address", "never arrived", "not arrived", "hasn't arrived",
    "damaged", "broken on arrival", "missing item", "stuck in transit",
    "nicht angekommen", "falsche artikel", "falscher artikel", "beschadigt",
    "verloren", "falsche adresse", "no ha llegado", "no llego", "perdido", "danado",
    "articulo equivocado", "direccion equivocada", "pas arrive", "jamais recu",
    "perdu", "abime", "endommage", "mauvais article", "mauvaise adresse",
    # outages
    "outage", "site is down", "is down", "down for everyone", "not working",
    "doesn't work", "can't log in", "cannot log in", "can't access", "locked out",
    "funktioniert nicht", "geht nicht", "ausfall", "storung", "nicht erreichbar",
    "no funciona", "caido", "caida", "no puedo acceder", "no puedo entrar",
    "ne fonctionne pas", "ne marche pas", "en panne", "panne", "inaccessible",
    "impossible de me connecter",
    # cancellations
    "cancel*", "stornier*", "kundig*", "cancelar", "cancelacion", "anular",
    "annuler", "annulation", "resilier", "resiliation",
    # threats to leave
    "switch to", "switching to", "competitor", "leaving", "going elsewhere",
    "take my business", "chargeback", "lawyer", "unacceptable", "complaint",
    "anbieter wechseln", "wechseln", "konkurrenz", "anwalt", "inakzeptabel",
    "beschwerde", "cambiarme", "competencia", "abogado", "inaceptable",
    "reclamacion", "queja", "changer de fournisseur", "concurrent", "avocat",
    "inacceptable", "reclamation", "plainte",
]

_CALM = [
    "no rush", "nothing urgent", "no big deal", "not a big deal", "es eilt nicht",
    "nichts dringendes", "nada urgente", "no urgent", "not urgent", "no hurry",
    "whenever you can", "when you get a chance",
    "when you have a moment", "just curious", "just wondering", "all sorted",
    "resolved now", "never mind", "nevermind", "problem solved", "keine eile",
    "nicht dringend", "hat sich erledigt", "wenn sie zeit haben", "sin prisa",
    "no es urgente", "cuando puedan", "ya esta resuelto", "rien d'urgent",
    "pas urgent", "pas presse", "quand vous pourrez", "c'est regle",
]

_SENSITIVE = [
    # credentials and verification
    "into my account", "in mein konto", "en mi cuenta", "a mon compte",
    "changed my email", "changed the email", "change l'email", "cambio el correo",
    "card on file", "on file", "billing address", "registrada en", "hinterlegt",
    "enregistree sur", "dos pasos", "zwei-faktor*", "double authentification",
    "password", "passcode", "verification code", "security code", "2fa",
    "two-factor", "one-time code", "otp", "pin", "security question", "verify my",
    "verify my identity", "log in", "login", "locked out", "account locked",
    "hacked", "someone accessed",
    "passwort", "kennwort", "bestatigungscode", "sicherheitscode", "gehackt",
    "konto gesperrt", "contrasena", "codigo de verificacion", "codigo de seguridad",
    "hackead*", "cuenta bloqueada", "mot de passe", "code de verification",
    "code de securite", "pirate", "compte bloque",
    # personal and account data
    "account details", "account number", "email address on",
    "change my email", "change my address", "update my address", "change my phone",
    "phone number on", "date of birth", "personal data", "delete my account",
    "delete my data", "gdpr", "card details", "card number", "iban", "bank details",
    "my balance", "kontodaten", "e-mail-adresse andern",
    "adresse andern", "telefonnummer andern", "geburtsdatum", "personliche daten",
    "konto loschen", "daten loschen", "dsgvo", "kartennummer", "bankverbindung",
    "datos de mi cuenta", "cambiar mi correo", "cambiar mi direccion",
    "fecha de nacimiento", "datos personales", "eliminar mi cuenta", "borrar mis datos",
    "rgpd", "numero de tarjeta", "datos bancarios",
    "changer mon adresse", "changer mon email", "date de naissance",
    "donnees personnelles", "supprimer mon compte", "numero de carte", "rib",
    "coordonnees bancaires",
]

_DETAIL = [
    "attached", "attachment", "see attached", "pdf", "contract", "terms", "approval",
    "approve", "sign off", "signature", "documentation", "detailed", "in writing",
    "statement", "purchase order", "copy of the invoice", "screenshot*",
    "anhang", "im anhang", "anbei", "vertrag", "genehmig*", "freigabe",
    "unterschrift", "schriftlich", "adjunto", "contrato", "aprobacion", "aprobar",
    "por escrito", "firma", "piece jointe", "ci-joint", "contrat", "validation",
    "approbation", "par ecrit",
]

_QUICK = [
    "quick question", "confirm", "confirmation", "any update", "status", "eta",
    "when will", "what time", "is it still", "still on", "reminder", "appointment",
    "kurze frage", "bestatig*", "termin", "wann kommt", "gibt es neuigkeiten",
    "pregunta rapida", "confirmar", "confirmacion", "cita", "cuando llega",
    "alguna novedad", "petite question", "confirmer", "rendez-vous", "quand arrive",
    "des nouvelles",
]

_OTHER = [
    "open late", "shop open", "store open", "abierto", "abren", "ouvert", "ouverts",
    "logo", "design", "gorgeous", "precioso", "magnifique", "toller laden", "super laden",
    "complaint", "opening hours", "open on", "hiring", "job", "interview",
    "journalist", "press", "review", "thank you", "wrong number",
    "beschwerde", "offnungszeiten", "geoffnet", "aushilfe*", "stellenangebot*", "falsch verbunden",
    "dsgvo", "queja", "reclamacion", "horario", "abren", "personal para", "empleo",
    "rgpd", "equivoque de numero", "reclamation", "plainte", "horaires", "ouverts",
    "recrut*", "trompe de numero", "gdpr",
]
# fmt: on

DEFAULT_LEXICON_DATA: dict[str, Any] = {
    "categories": {
        "sales": _SALES,
        "billing": _BILLING,
        "technical": _TECHNICAL,
        "logistics": _LOGISTICS,
        "other": _OTHER,
    },
    "urgent": _URGENT,
    "calm": _CALM,
    "sensitive": _SENSITIVE,
    "detail": _DETAIL,
    "quick": _QUICK,
}
