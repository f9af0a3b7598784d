"""Key files and password hashes: PuTTY ``.ppk`` blocks, age secret keys, SSH2 (SECSH) private
key blocks, base64-wrapped JWTs, crypt(3) hashes (``$1$``, ``$5$``, ``$6$``, bcrypt, yescrypt,
scrypt, argon2, PBKDF2), htpasswd entries (``$apr1$``, ``{SHA}``, ``{SSHA}``), Django password
hashes and so ``/etc/shadow`` lines; and checksum-confirmed GitHub/npm tokens glued to other text.

Key blocks are in the ``PrivateKey`` toggle, base64 JWTs in ``JWT``, hashes in
``PasswordHash``, the glued tokens in ``GitHubToken`` / ``DevToolToken``.  A hash is redacted
whole (algorithm, cost, salt and digest: an offline cracker needs all of them); the user name of
an htpasswd or shadow line stays.
"""

from __future__ import annotations

import base64
import binascii
import re

from ._common import Rule
from ._tokens import B64_BEFORE, B64_CHARS, base62_crc32, github_checksum_ok, tok

_A = re.ASCII
_NL = r"(?:\r?\n|\\r\\n|\\n)"
_PPK_MAC = re.compile(r"Private-MAC:[ \t]*[0-9a-fA-F]{40,64}", _A)
_PPK_BODY = re.compile(
    r"(?:[ \t]*" + _NL + r"?[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z][A-Za-z\-]*:[^\r\n\\]*))*", _A
)
PPK_LIMIT = 64 * 1024


def _h_putty(text: str, hits, out) -> None:
    """``PuTTY-User-Key-File-N: ...`` up to and including ``Private-MAC: <hex>``; a block cut
    short covers every following line that looks like a key line."""
    last = -1
    for _s, e in hits:
        s = e - len("PuTTY-User-Key-File-")
        if s < last:
            continue
        m = _PPK_MAC.search(text, e, min(len(text), e + PPK_LIMIT))
        t = m.end() if m else _PPK_BODY.match(text, e).end()
        last = t
        out.append((s, t, "PuTTYPrivateKey"))


_SSH2_END = re.compile(r"---- END SSH2 ENCRYPTED PRIVATE KEY ----", _A)


def _h_ssh2(text: str, hits, out) -> None:
    for _s, e in hits:
        s = e - len("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")
        m = _SSH2_END.search(text, e, min(len(text), e + PPK_LIMIT))
        out.append((s, m.end() if m else _PPK_BODY.match(text, e).end(), "PrivateKey"))


def _pem_b64(v: str) -> bool:
    """The base64 of a PEM private key block (Kubernetes ``tls.key``, kubeconfig
    ``client-key-data``)."""
    cut = len(v) - len(v) % 4
    try:
        raw = base64.b64decode(v[:cut], validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"-----BEGIN") and b"PRIVATE KEY" in raw[:80]


def _jwt_b64(v: str) -> bool:
    """The base64 of a JWT: decodes to ``eyJ...`` with at least one ``.eyJ`` part."""
    cut = len(v) - len(v) % 4
    try:
        raw = base64.b64decode(v[:cut], validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"eyJ") and b".eyJ" in raw[:4096]


_B64URL_REV = re.compile(r"[A-Za-z0-9_\-]{0,2048}", _A)
_JWT_REST = re.compile(r"[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*)?", _A)


def _b64url_json(seg: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    except (binascii.Error, ValueError):
        return b""


def _h_jwt_parts(text: str, hits, out) -> None:
    """JWTs the base rule misses: unsigned ones (``header.payload`` with no third part) and
    headers written with spaces or line breaks inside the JSON.  The anchor is ``.eyJ``; the
    header before it must decode to a JSON object naming ``alg`` or ``typ``."""
    seen = set()
    for _s, e in hits:
        dot = e - 4
        lo = max(0, dot - 2048)
        m = _B64URL_REV.match(text[lo:dot][::-1])
        s = dot - m.end()
        if s in seen or not text.startswith("eyJ", s) or (s and (text[s - 1].isalnum() or text[s - 1] in "_-")):
            continue
        seen.add(s)
        head = _b64url_json(text[s:dot])
        if not head.startswith(b"{") or (b'"alg"' not in head and b'"typ"' not in head):
            continue
        r = _JWT_REST.match(text, e)
        if r is None:
            continue
        out.append((s, r.end(), "JWT"))


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_ok(v: str) -> bool:
    """The bech32 checksum of an ``AGE-SECRET-KEY-1...`` string (human-readable part
    ``age-secret-key-``)."""
    v = v.lower()
    hrp, _sep, data = v.rpartition("1")
    try:
        vals = [_BECH32.index(c) for c in data]
    except ValueError:
        return False
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for x in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + vals:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ x
        for i in range(5):
            if (top >> i) & 1:
                chk ^= gen[i]
    return chk == 1


def _npm_checksum_ok(v: str) -> bool:
    body = v[4:]
    return len(body) == 36 and base62_crc32(body[:30]) == body[30:]


_HASH_USER_BEFORE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$./")
_CRYPT_SALT = r"[./A-Za-z0-9]{1,16}"

RULES: tuple[Rule, ...] = (
    Rule(rb"PuTTY-User-Key-File-", 0, _h_putty, ("PuTTYPrivateKey",)),
    Rule(rb"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", 0, _h_ssh2, ("PrivateKey",)),
    # age (bech32, upper case in key files); the checksum is verified
    tok("AgeSecretKey", "AGE-SECRET-KEY-1", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", check=_bech32_ok),
    tok("AgeSecretKey", "AGE-PLUGIN-", r"AGE-PLUGIN-[A-Z0-9]{1,32}-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{20,}"),
    Rule(rb"\.eyJ", 0, _h_jwt_parts, ("JWT",)),
    # PEM private keys wrapped in base64: "-----BEGIN" -> "LS0tLS1CRUdJT"
    tok("PrivateKey", "LS0tLS1CRUdJT", r"LS0tLS1CRUdJT[A-Za-z0-9+/]{60,}={0,2}", check=_pem_b64, before=B64_BEFORE, after=B64_CHARS),
    # JWTs wrapped in base64 (Kubernetes secrets, basic-auth style headers): "eyJ" -> "ZXlK"
    tok("JWT", "ZXlK", r"ZXlK[A-Za-z0-9+/]{60,}={0,2}", check=_jwt_b64, before=B64_BEFORE, after=B64_CHARS),
    # GitHub and npm tokens with a valid CRC32 tail are reported even glued to other text
    tok("GitHubToken", b"gh[pousr]_", r"gh[pousr]_[A-Za-z0-9]{36}", back=4, check=github_checksum_ok, before=None, after=None),
    tok("NpmToken", "npm_", r"npm_[A-Za-z0-9]{36}", check=_npm_checksum_ok, before=None, after=None),
    # crypt(3): MD5, SHA-256, SHA-512 (optional rounds=), bcrypt, yescrypt, scrypt, sunmd5, Apache MD5
    tok("PasswordHash", b"\\$[156]\\$", r"\$[156]\$(?:rounds=[0-9]{1,9}\$)?" + _CRYPT_SALT + r"\$[./A-Za-z0-9]{22,86}",
        back=3, before=_HASH_USER_BEFORE, after=_HASH_USER_BEFORE),
    tok("PasswordHash", b"\\$2[abxy]\\$", r"\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}", back=4,
        before=_HASH_USER_BEFORE, after=_HASH_USER_BEFORE),
    tok("PasswordHash", b"\\$(?:y|gy|7)\\$", r"\$(?:y|gy|7)\$[./A-Za-z0-9]{1,64}\$[./A-Za-z0-9]{0,64}\$?[./A-Za-z0-9]{22,86}",
        som=True, before=_HASH_USER_BEFORE, after=_HASH_USER_BEFORE),
    tok("PasswordHash", "$apr1$", r"\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}", before=_HASH_USER_BEFORE,
        after=_HASH_USER_BEFORE),
    tok("PasswordHash", "$md5", r"\$md5(?:,rounds=[0-9]+)?\$[./A-Za-z0-9]{1,16}\$\$?[./A-Za-z0-9]{22}",
        before=_HASH_USER_BEFORE, after=_HASH_USER_BEFORE),
    tok("PasswordHash", "$sha1$", r"\$sha1\$[0-9]+\$[./A-Za-z0-9]{1,64}\$[./A-Za-z0-9]{28}", before=_HASH_USER_BEFORE,
        after=_HASH_USER_BEFORE),
    tok("PasswordHash", b"\\$argon2(?:id|i|d)\\$", r"\$argon2(?:id|i|d)\$(?:v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}",
        som=True, before=_HASH_USER_BEFORE, after=B64_CHARS),
    tok("PasswordHash", "$scrypt$", r"\$scrypt\$ln=[0-9]+,r=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/.]{8,}\$[A-Za-z0-9+/.]{16,}",
        before=_HASH_USER_BEFORE, after=B64_CHARS),
    tok("PasswordHash", b"\\$pbkdf2-sha(?:1|256|512)\\$", r"\$pbkdf2-sha(?:1|256|512)\$[0-9]+\$[./A-Za-z0-9+]{8,}\$[./A-Za-z0-9+]{16,}",
        som=True, before=_HASH_USER_BEFORE, after=B64_CHARS),
    # Django: pbkdf2_sha256$<iterations>$<salt>$<hash>, bcrypt_sha256$$2b$..., argon2$argon2id$...
    tok("PasswordHash", b"pbkdf2_sha(?:1|256)\\$[0-9]", r"pbkdf2_sha(?:1|256)\$[0-9]{4,7}\$[A-Za-z0-9]{6,64}\$[A-Za-z0-9+/]{27,86}={0,2}",
        som=True, after=B64_CHARS),
    # htpasswd / LDAP: {SHA}base64 (28), {SSHA}base64
    tok("PasswordHash", "{SHA}", r"\{SHA\}[A-Za-z0-9+/]{27}=", before=None, after=B64_CHARS),
    tok("PasswordHash", "{SSHA}", r"\{SSHA\}[A-Za-z0-9+/]{32,}={0,2}", before=None, after=B64_CHARS),
    tok("PasswordHash", "{SSHA512}", r"\{SSHA512\}[A-Za-z0-9+/]{88,}={0,2}", before=None, after=B64_CHARS),
)
