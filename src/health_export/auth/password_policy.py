"""The one password policy, for the CLI and the API alike."""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_PASSPHRASE_WORDS = 4
# zxcvbn's 0-4 scale; 3 is "safely unguessable" against an offline attack of 10^10
# guesses. It knows the commonest passwords, keyboard walks, dates and l33t variants.
MIN_SCORE = 3
MAX_LENGTH = 1024
# zxcvbn's matching grows quadratically (1,024 characters: ~2 s); a password whose
# first 128 characters are unguessable is unguessable.
JUDGED_LENGTH = 128
_WORD = re.compile(r"[^\W\d_]{2,}")


class WeakPassword(ValueError):
    """A password the policy refuses; the message says what to change."""


def check_password(password: str, *, user_name: str | None = None) -> None:
    """Refuse ``password`` unless it is long (or a passphrase) and not guessable.

    CPU work of up to ~0.1 s: call it from a thread on the server.
    """
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password is longer than {MAX_LENGTH} characters")
    if len(password) < MIN_LENGTH and len(_WORD.findall(password)) < MIN_PASSPHRASE_WORDS:
        raise WeakPassword(
            f"the password needs at least {MIN_LENGTH} characters "
            f"(or a passphrase of {MIN_PASSPHRASE_WORDS} words or more)"
        )
    hints = [user_name] if user_name else []
    strength = zxcvbn(password[:JUDGED_LENGTH], user_inputs=hints, max_length=JUDGED_LENGTH)
    if strength["score"] < MIN_SCORE:
        warning = strength["feedback"].get("warning") or "it is easy to guess"
        raise WeakPassword(f"the password is too common or predictable: {warning.rstrip('.')}")
