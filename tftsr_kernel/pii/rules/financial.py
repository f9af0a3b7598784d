"""Financial data: payment card numbers (issuer prefixes, Luhn) and IBANs (length by country, mod-97)."""

from __future__ import annotations

from ._common import SOM, Rule, _isword, _longest_by_start, luhn_ok

def card_prefix_ok(d: str) -> bool:
    n = len(d)
    p2 = int(d[:2])
    p4 = int(d[:4])
    p6 = int(d[:6])
    if d[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or p2 == 65 or 644 <= int(d[:3]) <= 649 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19
    if 300 <= int(d[:3]) <= 305 or p2 in (36, 38, 39) or p4 == 3095:
        return 14 <= n <= 19
    if 3500 <= p4 <= 3599:  # JCB (3528-3589; test generators use all of 35xx)
        return 16 <= n <= 19
    if p4 in (2131, 1800):
        return n == 15
    if p2 == 62:
        return 16 <= n <= 19
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) or 56 <= p2 <= 58:
        return 12 <= n <= 19  # Maestro
    if p2 == 50 or 56 <= p2 <= 69:
        return 13 <= n <= 19
    return False


_IBAN_LEN = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_ok(compact: str) -> bool:
    """``compact``: upper-case IBAN without spaces."""
    if _IBAN_LEN.get(compact[:2]) != len(compact):
        return False
    if not compact[2:4].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1



def _h_card(text: str, hits, out) -> None:
    n = len(text)
    for s, e in _longest_by_start(hits).items():
        if s:
            c = text[s - 1]
            if c == "_" or (c in "-." and s >= 2 and _isword(text[s - 2])):
                continue  # blk_-1608999687919862906, v1.2345...
        if e + 1 < n and text[e] in ".-" and text[e + 1].isdigit():
            continue
        tok = text[s:e]
        if "-" in tok and " " in tok:
            continue  # mixed separators
        digits = tok.replace(" ", "").replace("-", "")
        if not 12 <= len(digits) <= 19:
            continue
        if not card_prefix_ok(digits) or not luhn_ok(digits):
            continue
        out.append((s, e, "CreditCard"))


def _h_iban(text: str, hits, out) -> None:
    groups: dict[int, list[int]] = {}
    for s, e in hits:
        groups.setdefault(s, []).append(e)
    for s, ends in groups.items():
        for e in sorted(set(ends), reverse=True):
            tok = text[s:e]
            letters = "".join(c for c in tok if c.isalpha())
            if not (letters.isupper() or letters.islower()):
                continue
            compact = tok.replace(" ", "").upper()
            if iban_ok(compact):
                out.append((s, e, "IBAN"))
                break



RULES: tuple[Rule, ...] = (
    # contiguous card numbers: issuers start with 2-6 (1800 is JCB); 12 digits only for Maestro.
    # One alternation: as three patterns the database scanned ~1.5x slower.
    Rule(
        rb"\b(?:[2-6]\d{12,18}|1800\d{11}|(?:5018|5020|5038|5893|6304|6759|676[1-3]|5[6-8]\d\d)\d{8})\b",
        SOM,
        _h_card,
        ("CreditCard",),
    ),
    Rule(
        rb"\b\d{4}[ \-]\d{4,6}[ \-]\d{4,5}(?:[ \-]\d{1,4}(?:[ \-]\d{3})?)?\b",
        SOM,
        _h_card,
        ("CreditCard",),
    ),
    # upper case only: a case-insensitive IBAN anchor doubled the database's scan time
    Rule(
        rb"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", SOM, _h_iban, ("IBAN",)
    ),
)
