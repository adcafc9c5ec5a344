"""API key formats: generation, shape checks (no database), digests, entropy."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import string
import uuid
import zlib
from enum import StrEnum

from zxcvbn import zxcvbn

TOKEN_PREFIX = "hea_"  # noqa: S105 - a public marker, not a secret
BASE62 = string.digits + string.ascii_letters
TOKEN_SECRET_LEN = 30  # 30 base62 characters: 178 bits
CHECKSUM_LEN = 6  # CRC32 < 62**6
MIN_CUSTOM_BITS = 128
# A random value of 128 bits may hold a short word by chance (hex "dead", "cafe"), so the
# pattern-aware estimate gets some slack; words, walks and repeats fall far below it.
MIN_PATTERN_BITS = 80
JUDGED_LENGTH = 128
MAX_KEY_LEN = 256
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_TOKEN = re.compile(rf"^{TOKEN_PREFIX}[0-9A-Za-z]{{{TOKEN_SECRET_LEN + CHECKSUM_LEN}}}$")
# Printable ASCII without space: what a header value typed into the app can carry.
_CUSTOM = re.compile(r"^[\x21-\x7e]+$")


class KeyFormat(StrEnum):
    """How a key looks."""

    TOKEN = "token"  # noqa: S105 - a format name
    UUID = "uuid"
    CUSTOM = "custom"


class KeyValueError(ValueError):
    """A key value that cannot be registered."""


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def _checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode()), CHECKSUM_LEN)


def generate(key_format: KeyFormat) -> str:
    """A new random key of ``key_format``."""
    if key_format is KeyFormat.UUID:
        return str(uuid.uuid4())
    if key_format is KeyFormat.TOKEN:
        secret = "".join(secrets.choice(BASE62) for _ in range(TOKEN_SECRET_LEN))
        return f"{TOKEN_PREFIX}{secret}{_checksum(secret)}"
    raise ValueError("custom keys are registered, not generated")


def format_of(value: str) -> KeyFormat | None:
    """The format ``value`` has, or None when it is malformed (checked without I/O)."""
    if value.startswith(TOKEN_PREFIX):
        return KeyFormat.TOKEN if _is_valid_token(value) else None
    if _UUID4.match(value):
        return KeyFormat.UUID
    if len(value) > MAX_KEY_LEN or not _CUSTOM.match(value):
        return None
    # Shorter than this cannot carry 128 bits even over all 94 printable characters.
    return KeyFormat.CUSTOM if len(value) >= 20 else None


def _is_valid_token(value: str) -> bool:
    if not _TOKEN.match(value):
        return False
    body = value[len(TOKEN_PREFIX) :]
    secret, checksum = body[:TOKEN_SECRET_LEN], body[TOKEN_SECRET_LEN:]
    return secrets.compare_digest(_checksum(secret), checksum)


def digest(value: str) -> bytes:
    """The SHA-256 digest stored and looked up (keys are random, so no salt is needed)."""
    return hashlib.sha256(value.encode()).digest()


def display_prefix(value: str) -> str:
    """A short, non-secret beginning that lets an owner recognise a key."""
    if value.startswith(TOKEN_PREFIX):
        return value[: len(TOKEN_PREFIX) + 4]
    return value[:4]


def _alphabet_size(value: str) -> int:
    # Hex is common for generated keys: do not credit it with all 36 letters and digits.
    if all(c in string.hexdigits for c in value) and (value.islower() or value.isupper()):
        return 16
    size = sum(
        len(chars)
        for chars in (
            string.ascii_lowercase,
            string.ascii_uppercase,
            string.digits,
            string.punctuation,
        )
        if any(c in chars for c in value)
    )
    return size


def estimated_bits(value: str) -> float:
    """A conservative entropy estimate: length × log2(alphabet of the classes used)."""
    alphabet = _alphabet_size(value)
    return len(value) * math.log2(alphabet) if alphabet > 1 else 0.0


def check_registrable(value: str) -> KeyFormat:
    """The format of an existing key to register, or KeyValueError saying why not."""
    key_format = format_of(value)
    if key_format is None:
        raise KeyValueError("not a usable key: printable ASCII, no spaces, 20-256 characters")
    if key_format is KeyFormat.CUSTOM:
        _check_entropy(value)
    return key_format


def _check_entropy(value: str) -> None:
    if estimated_bits(value) < MIN_CUSTOM_BITS:
        raise KeyValueError(
            f"the key must carry at least {MIN_CUSTOM_BITS} bits of entropy: use 22 or more "
            "random letters and digits (or omit the value and let the server make one)"
        )
    # Long but repetitive values ("aaaa…", "abcabc…") are guessable despite their length.
    if len(set(value)) < min(_alphabet_size(value) // 2, len(value) // 3):
        raise KeyValueError("the key is too repetitive to be random")
    if pattern_bits(value) < MIN_PATTERN_BITS:
        raise KeyValueError(
            "the key is made of words, sequences, dates or repeats that are easy to guess; "
            "use random characters (or omit the value and let the server make one)"
        )


def pattern_bits(value: str) -> float:
    """Bits left once guessable parts (words, sequences, repeats, dates) are found.

    zxcvbn splits the value into its cheapest guessable parts; a part it can only brute
    force is credited with the class estimate per character, any other part with
    log2 of zxcvbn's guesses for it. CPU work of up to ~0.1 s (first 128 characters).
    """
    judged = value[:JUDGED_LENGTH]
    per_char = math.log2(max(2, _alphabet_size(value)))
    bits = (len(value) - len(judged)) * per_char
    for match in zxcvbn(judged, max_length=JUDGED_LENGTH)["sequence"]:
        pattern: str = match["pattern"]  # the stubs omit zxcvbn's "bruteforce" parts
        if pattern == "bruteforce":
            bits += len(match["token"]) * per_char
        else:
            bits += math.log2(max(1, float(match["guesses"])))
    return bits
