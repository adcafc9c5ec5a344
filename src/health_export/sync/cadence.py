"""An automation's usual rhythm, and when its silence becomes an incident."""

from __future__ import annotations

from health_export.core.config import Settings

# Fewer intervals between runs than this: no cadence yet (never "silent").
MIN_INTERVALS = 3


def cadence_of(found: tuple[float, int] | None) -> float | None:
    """The median interval between runs, once there are enough of them."""
    if found is None or found[1] < MIN_INTERVALS:
        return None
    return found[0]


def silence_threshold_s(settings: Settings, cadence_s: float | None) -> float | None:
    """Seconds of silence after which an automation is silent: ALERT_SILENCE_SECONDS when
    set, else ALERT_SILENCE_FACTOR × its cadence (None: no cadence known yet)."""
    if settings.alert_silence_seconds is not None:
        return settings.alert_silence_seconds
    if cadence_s is None:
        return None
    # Never below the check interval: a check cannot see a shorter silence anyway.
    return max(settings.alert_silence_factor * cadence_s, settings.alert_check_seconds)
