"""Key formats: shape and checksum checked without the database; entropy of registered keys."""

from __future__ import annotations

import secrets
import uuid

import pytest

from health_export.auth import keys
from health_export.auth.keys import KeyFormat, KeyValueError


def test_generated_token_has_prefix_and_valid_checksum() -> None:
    value = keys.generate(KeyFormat.TOKEN)
    assert value.startswith("hea_")
    assert len(value) == 40
    assert keys.format_of(value) is KeyFormat.TOKEN


def test_token_with_one_changed_character_is_malformed() -> None:
    value = keys.generate(KeyFormat.TOKEN)
    flipped = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    assert keys.format_of(flipped) is None


def test_generated_uuid_key_is_a_uuid4() -> None:
    value = keys.generate(KeyFormat.UUID)
    assert uuid.UUID(value).version == 4
    assert keys.format_of(value) is KeyFormat.UUID


def test_two_generated_keys_differ() -> None:
    assert keys.generate(KeyFormat.TOKEN) != keys.generate(KeyFormat.TOKEN)


@pytest.mark.parametrize(
    "value", ["", "short", "has space in it 1234567890", "hea_notavalidtoken", "ü" * 30]
)
def test_malformed_values_are_recognised_without_io(value: str) -> None:
    assert keys.format_of(value) is None


def test_random_hex_of_128_bits_can_be_registered() -> None:
    assert keys.check_registrable(secrets.token_hex(16)) is KeyFormat.CUSTOM


def test_urlsafe_random_key_can_be_registered() -> None:
    assert keys.check_registrable(secrets.token_urlsafe(24)) is KeyFormat.CUSTOM


def test_existing_uuid4_key_registers_as_uuid() -> None:
    assert keys.check_registrable(str(uuid.uuid4())) is KeyFormat.UUID


@pytest.mark.parametrize(
    "value",
    ["a" * 40, "abcabcabcabcabcabcabcabcabcabc", "0123456789abcdef0123", "password1234567890ab"],
)
def test_low_entropy_values_are_refused(value: str) -> None:
    with pytest.raises(KeyValueError):
        keys.check_registrable(value)


@pytest.mark.parametrize(
    "value",
    [
        "passwordpasswordpassword1!",  # words repeated: 158 bits by character classes
        "0123456789abcdef0123456789abcdef",  # a sequence twice: 128 bits by classes
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "correcthorsebatterystaple2024xyz",
        "qwertyuiopasdfghjklzxcvbnm1234567890",
    ],
)
def test_values_of_words_sequences_and_walks_are_refused_with_what_to_do(value: str) -> None:
    with pytest.raises(KeyValueError, match="random characters"):
        keys.check_registrable(value)


def test_digest_is_sha256_and_display_prefix_is_short() -> None:
    value = keys.generate(KeyFormat.TOKEN)
    assert len(keys.digest(value)) == 32
    assert keys.display_prefix(value) == value[:8]
