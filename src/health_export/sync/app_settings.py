"""The Health Auto Export settings health-export recommends: the one place that knows them.

Rendered as text by the first-run banner (`health-export bootstrap`) and by
`health-export setup-app`, which adds, per data type, the app's deep link and a QR code.

The deep link (``com.HealthExport://automation``) uses only the parameters the app's own
documentation lists with their values: url, name, headers, format, datatype, period,
interval, aggregatedata, syncinterval, syncquantity, enabled. The app's newer help
names more settings (export version, request timeout, batch requests, sleep
aggregation) without values we could check, so those are printed to set by hand after
the link is opened, never guessed into the link.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import segno

from health_export.sync.address import IngestAddress

DEEP_LINK_BASE = "com.HealthExport://automation"
HEADER_NAME = "Authorization"


@dataclass(frozen=True, slots=True)
class Setting:
    """One field of the app's automation screen and the value to choose."""

    label: str
    value: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class DataTypeSetup:
    """A ready automation for one data type."""

    data_type: str
    # The deep link's documented ``datatype`` value (None: the app documents none).
    link_type: str | None
    settings: tuple[Setting, ...]


# Every automation, whatever its data type.
COMMON: tuple[Setting, ...] = (
    Setting("Export format", "JSON", "CSV automations are refused (415)"),
    Setting("Export version", "2", "workouts get a stable id, routes their accuracies"),
    Setting("Period", "Default", "yesterday and today at every run; re-sent samples are matched"),
    Setting("Batch requests", "On", "a backfill arrives in several requests, never one too large"),
    Setting("Request timeout", "60 s", "large bodies get 202 and finish in the background"),
    Setting("Sync cadence", "every 1 hour", "the alerts learn this rhythm"),
)
DATA_TYPES: tuple[DataTypeSetup, ...] = (
    DataTypeSetup(
        "Health Metrics",
        "healthmetrics",
        (
            Setting("Aggregation (interval)", "Minutes", "the most detail the app sends"),
            Setting("Aggregate sleep", "Off", "so sleep arrives as Core/Deep/REM segments"),
        ),
    ),
    DataTypeSetup(
        "Workouts",
        "workouts",
        (Setting("Include route data", "On, if you want the GPS routes"),),
    ),
    DataTypeSetup("Symptoms", "symptoms", ()),
    DataTypeSetup("ECG", None, ()),
    DataTypeSetup("Heart Rate Notifications", None, ()),
    DataTypeSetup("State of Mind", None, ()),
    DataTypeSetup("Cycle Tracking", None, ()),
    DataTypeSetup("Medications", None, ()),
)
# What a deep link sets for every automation (documented names and values).
_LINK_COMMON = {
    "format": "json",
    "period": "none",  # the app's "Default"
    "syncinterval": "hours",
    "syncquantity": "1",
    "enabled": "true",
}
_LINK_OF_TYPE = {"healthmetrics": {"interval": "minutes", "aggregatedata": "true"}}
# Set by hand after opening a link: their deep-link parameters could not be verified.
BY_HAND_AFTER_LINK = ("Export version", "Batch requests", "Request timeout")
# Settings of a data type its link sets (the others are set by hand).
_IN_LINK = {"Aggregation (interval)"}


def header_value(key: str) -> str:
    """The Authorization header's value."""
    return f"Bearer {key}"


def deep_link(address: IngestAddress, key: str, setup: DataTypeSetup) -> str | None:
    """The app's link that creates this automation (None for types it documents none for)."""
    if setup.link_type is None:
        return None
    params = {
        "url": address.url,
        "name": f"health-export {setup.data_type}",
        "headers": f"{HEADER_NAME},{header_value(key)}",
        "datatype": setup.link_type,
        **_LINK_COMMON,
        **_LINK_OF_TYPE.get(setup.link_type, {}),
    }
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())
    return f"{DEEP_LINK_BASE}?{query}"


def qr_code(link: str) -> str:
    """The link as a QR code drawn with Unicode blocks, for a terminal."""
    drawing = io.StringIO()
    segno.make(link, error="l").terminal(out=drawing, compact=True)
    return drawing.getvalue()


def _setting_lines(settings: tuple[Setting, ...], indent: str) -> list[str]:
    return [
        f"{indent}{s.label + ':':<24}{s.value}" + (f"  ({s.why})" if s.why else "")
        for s in settings
    ]


def settings_text(address: IngestAddress, key: str) -> str:
    """Every setting of a REST API automation, as the banner prints them."""
    lines = ["In Health Auto Export: Automations → New automation → REST API, one per data type:"]
    lines += _address_lines(address)
    lines += [f"  {'Header:':<24}{HEADER_NAME}: {header_value(key)}"]
    lines += _setting_lines(COMMON, "  ")
    for setup in DATA_TYPES:
        if setup.settings:
            lines.append(f"  For {setup.data_type}:")
            lines += _setting_lines(setup.settings, "    ")
    return "\n".join(lines)


def _address_lines(address: IngestAddress) -> list[str]:
    lines = [f"  {'URL:':<24}{address.url}"]
    lines += [f"  ({note})" for note in address.notes]
    if address.warning:
        lines.append(f"  WARNING: {address.warning}")
    return lines


def setup_text(address: IngestAddress, key: str, *, with_qr: bool = True) -> str:
    """Per data type a ready automation: its settings, deep link and QR code."""
    lines = [settings_text(address, key), ""]
    for setup in DATA_TYPES:
        link = deep_link(address, key, setup)
        lines.append(f"== {setup.data_type} ==")
        if link is None:
            lines.append(
                "  No documented deep link for this type: create it by hand with the "
                "settings above (Data type: " + setup.data_type + ")."
            )
            lines.append("")
            continue
        lines.append(f"  Open on the phone: {link}")
        by_hand = [
            *BY_HAND_AFTER_LINK,
            *(s.label for s in setup.settings if s.label not in _IN_LINK),
        ]
        lines.append("  Then set by hand (the link cannot): " + ", ".join(by_hand) + ".")
        if with_qr:
            lines.append(qr_code(link))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
