"""Cheque codes: 12 random Crockford base32 characters plus one Damm check character.

A code is 13 characters of the alphabet below (60 random bits from `secrets`, then one check
character). People see it as ``XXXX-XXXX-XXXX-C``; whatever they type is normalised first
(case, spaces and hyphens ignored, ``O`` read as ``0``, ``I`` and ``L`` as ``1``).

The check character is a Damm check over the quasigroup of order 32
``x ∗ y = A·x ⊕ y`` in GF(2⁵) (modulus x⁵ + x² + 1, A = x). Rows and columns are
permutations, so every single substitution is detected; ``A ≠ 1`` makes the quasigroup weakly
totally anti-symmetric, ``(c ∗ x) ∗ y = (c ∗ y) ∗ x ⇒ x = y``, so every swap of two adjacent
characters is detected too (tests/cheques/test_codes.py checks both properties exhaustively).

Because ``x ∗ y`` is linear over GF(2), the check character is the XOR of one contribution per
position: bulk generation computes it for a million codes with a dozen C-level operations
on whole byte strings instead of a Python loop per code.

The QR payload of a cheque is ``SITE_URL/c/<code>?s=<key id>.<signature>``: an HMAC-SHA256 of
the code with a server key, truncated to 96 bits. Keys are ``settings.CHEQUE_SIGNING_KEYS``
(``"id:secret"``; the first one signs, all of them verify), so keys can rotate.
"""

import base64
import hashlib
import hmac
import re
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 12
LENGTH = BODY_LENGTH + 1
SIGNATURE_BYTES = 12

_VALUE = {char: value for value, char in enumerate(ALPHABET)}
_MODULUS = 0b100101  # x⁵ + x² + 1, irreducible over GF(2)


def _times_a(x):
    """Multiplication by A = x in GF(2⁵)."""
    x <<= 1
    return x ^ _MODULUS if x & 0b100000 else x


# DAMM[interim][value]: the quasigroup operation.
DAMM = tuple(tuple(_times_a(i) ^ j for j in range(32)) for i in range(32))

# --- normalisation -------------------------------------------------------------------------

_NORMALISE = str.maketrans({"O": "0", "I": "1", "L": "1", " ": None, "-": None,
                            "\t": None, "\u00a0": None})
_WELL_FORMED = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")


def normalise(text):
    """What the person meant: upper case, without spaces or hyphens, O→0, I/L→1."""
    return (text or "").upper().translate(_NORMALISE)


def is_well_formed(code):
    """13 characters of the alphabet (after normalisation)."""
    return bool(_WELL_FORMED.fullmatch(normalise(code)))


# --- the check character -------------------------------------------------------------------


def _interim(values, start=0):
    for value in values:
        start = DAMM[start][value]
    return start


def check_character(body):
    """The check character of a 12-character body (normalised first)."""
    body = normalise(body)
    interim = _interim(_VALUE[char] for char in body)
    # The check c brings the interim back to 0: A·interim ⊕ c = 0.
    return ALPHABET[DAMM[interim].index(0)]


def has_valid_check(code):
    """True when a well-formed code's check character matches its body."""
    code = normalise(code)
    if not _WELL_FORMED.fullmatch(code):
        return False
    return _interim(_VALUE[char] for char in code) == 0


def format_code(code):
    """``XXXX-XXXX-XXXX-C`` for display and print."""
    code = normalise(code)
    return f"{code[0:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"


# --- bulk generation -----------------------------------------------------------------------

_STANDARD_B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = bytes.maketrans(_STANDARD_B32, ALPHABET.encode())
_VALUE_TO_CHAR = bytes(ALPHABET.encode()) + bytes(224)


def _contribution_tables():
    """For each body position, a bytes.translate table: character → its share of the check
    value (the check value is the XOR of all shares, since the check is linear)."""
    tables = []
    for position in range(BODY_LENGTH):
        table = bytearray(256)
        for char in ALPHABET:
            body = ["0"] * BODY_LENGTH
            body[position] = char
            table[ord(char)] = _VALUE[check_character("".join(body))]
        tables.append(bytes(table))
    return tables


_CONTRIBUTIONS = _contribution_tables()


def generate_block(count):
    """`count` fresh codes as one ASCII bytes object of 13 × `count` characters."""
    if count <= 0:
        return b""
    pairs = (count + 1) // 2  # 15 random bytes = 24 base32 characters = two 12-char bodies
    bodies = base64.b32encode(secrets.token_bytes(15 * pairs)).translate(_TO_CROCKFORD)
    bodies = bodies[: BODY_LENGTH * count]
    block = bytearray(LENGTH * count)
    check = 0
    for position in range(BODY_LENGTH):
        column = bodies[position::BODY_LENGTH]
        block[position::LENGTH] = column
        check ^= int.from_bytes(column.translate(_CONTRIBUTIONS[position]), "big")
    block[BODY_LENGTH::LENGTH] = check.to_bytes(count, "big").translate(_VALUE_TO_CHAR)
    return bytes(block)


def generate_codes(count):
    """A list of `count` fresh, normalised 13-character codes."""
    block = generate_block(count).decode("ascii")
    return [block[start:start + LENGTH] for start in range(0, LENGTH * count, LENGTH)]


# --- the signed QR payload -----------------------------------------------------------------


def _keys():
    keys = []
    for item in settings.CHEQUE_SIGNING_KEYS:
        key_id, _, secret = item.partition(":")
        if key_id and secret:
            keys.append((key_id, secret.encode()))
    if not keys:
        raise RuntimeError("CHEQUE_SIGNING_KEYS holds no 'id:secret' key.")
    return keys


def _mac(secret, code):
    digest = hmac.new(secret, code.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")


def sign(code):
    """``<key id>.<base64url HMAC>`` of the normalised code, with the first (current) key."""
    key_id, secret = _keys()[0]
    return f"{key_id}.{_mac(secret, normalise(code))}"


def verify_signature(code, signature):
    """Constant-time check of a QR signature against every configured key; no database."""
    if not signature or not isinstance(signature, str):
        return False
    key_id, _, mac = signature.partition(".")
    code = normalise(code)
    if not mac or not _WELL_FORMED.fullmatch(code):
        return False
    valid = False
    for candidate_id, secret in _keys():
        if hmac.compare_digest(candidate_id.encode(), key_id.encode("utf-8", "replace")):
            valid |= hmac.compare_digest(_mac(secret, code).encode(),
                                         mac.encode("utf-8", "replace"))
    return valid


def qr_url(code):
    """The absolute URL printed in the cheque's QR code."""
    code = normalise(code)
    return f"{settings.SITE_URL}/c/{code}?s={sign(code)}"
