"""Response models of the dashboard's read endpoints (OpenAPI; bodies are built as dicts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from health_export.health_data.metrics.schemas import Sample, example


class DayValue(BaseModel):
    """One local day's value."""

    date: date
    value: float


class TypicalRange(BaseModel):
    """The middle half of the daily values (25th to 75th percentile)."""

    low: float
    high: float


class OverviewCard(BaseModel):
    """One key number over the range."""

    key: str = Field(
        description="steps, active_energy, exercise, stand, resting_hr, hrv, sleep or weight"
    )
    label: str
    unit: str
    hae_name: str = Field(description="The data type to add to an app automation for this card")
    latest: DayValue | None = Field(description="The last day (night, for sleep) with a value")
    mean: float | None = Field(description="Mean of the daily values in the range")
    previous_mean: float | None = Field(
        description="Mean of the daily values in the period of the same length just before; "
        "null when the range is open"
    )
    change: float | None = Field(description="mean - previous_mean")
    change_pct: float | None = Field(description="change as a percentage of previous_mean")
    typical: TypicalRange | None = Field(
        description="25th-75th percentile of the daily values of both periods (from 4 days)"
    )
    days: list[DayValue] = Field(description="The daily values in the range, oldest first")


_DAY = {"date": "2024-03-14", "value": 9214.0}


class Ring(BaseModel):
    """One Activity ring of one day: the feed's value against a goal."""

    value: float | None
    goal: float | None = Field(description="null: no goal known (move, without an archive)")
    goal_from: Literal["archive", "default"] | None = Field(
        description="archive: the imported archive's goal in force that day; default: "
        "Apple's fixed goal (exercise 30 min, stand 12 h)"
    )
    fraction: float | None = Field(description="value / goal (1 = ring closed)")
    unit: str


class OverviewRings(BaseModel):
    """The rings of the range's last day with activity."""

    date: date
    move: Ring
    exercise: Ring
    stand: Ring


_RING = {"goal_from": "archive", "unit": "min"}


class Overview(BaseModel):
    """The dashboard overview's cards."""

    model_config = example(
        {
            "tz": "America/New_York",
            "cards": [
                {
                    "key": "steps",
                    "label": "Steps",
                    "unit": "count",
                    "hae_name": "Step Count",
                    "latest": _DAY,
                    "mean": 8610.5,
                    "previous_mean": 7990.0,
                    "change": 620.5,
                    "change_pct": 7.77,
                    "typical": {"low": 6500.0, "high": 10200.0},
                    "days": [_DAY],
                }
            ],
            "rings": {
                "date": "2024-03-14",
                "move": {**_RING, "value": 540.0, "goal": 500.0, "fraction": 1.08, "unit": "kcal"},
                "exercise": {**_RING, "value": 24.0, "goal": 30.0, "fraction": 0.8},
                "stand": {**_RING, "value": 9.0, "goal": 12.0, "fraction": 0.75, "unit": "h"},
            },
        }
    )
    tz: str | None
    cards: list[OverviewCard]
    rings: OverviewRings | None = Field(
        description="The Activity rings of the range's last day with activity (null: none)"
    )


class HeartDay(BaseModel):
    """One local day of heart numbers (null: not recorded that day)."""

    date: date
    resting_hr: float | None
    hrv_ms: float | None
    hr_min: float | None
    hr_avg: float | None
    hr_max: float | None


class BloodPressureDay(BaseModel):
    """One local day's blood pressure: the mean of its readings (mmHg)."""

    date: date
    systolic: float
    diastolic: float
    readings: int


class HeartNotificationMark(BaseModel):
    """A heart-rate notification, as marked on the heart page's timeline (``date``: its
    local day)."""

    date: date
    start: datetime
    end: datetime | None
    kind: str = Field(description="e.g. high_heart_rate_notification (as the app sent it)")
    threshold: float | None


class HeartDaily(BaseModel):
    """Heart numbers per local day, one entry per day that has any."""

    model_config = example(
        {
            "tz": None,
            "unit": "count/min",
            "days": [
                {
                    "date": "2024-03-14",
                    "resting_hr": 58.0,
                    "hrv_ms": 41.5,
                    "hr_min": 52.0,
                    "hr_avg": 74.3,
                    "hr_max": 151.0,
                }
            ],
            "blood_pressure": [
                {"date": "2024-03-14", "systolic": 121.5, "diastolic": 79.0, "readings": 2}
            ],
            "notifications": [
                {
                    "date": "2024-03-14",
                    "start": "2024-03-14T15:02:00-04:00",
                    "end": "2024-03-14T15:12:00-04:00",
                    "kind": "high_heart_rate_notification",
                    "threshold": 120.0,
                }
            ],
        }
    )
    tz: str | None
    unit: str
    days: list[HeartDay]
    blood_pressure: list[BloodPressureDay] = Field(
        description="Per local day with readings, their mean (mmHg)"
    )
    notifications: list[HeartNotificationMark] = Field(
        description="High, low and irregular heart-rate notifications in the range"
    )


class NewestSamples(BaseModel):
    """A metric's newest stored samples in the range, newest first."""

    model_config = example(
        {
            "metric": "weight_body_mass",
            "unit": "kg",
            "samples": [
                {
                    "start": "2024-03-14T07:02:00-04:00",
                    "end": None,
                    "source": "Withings",
                    "unit": "kg",
                    "qty": 72.4,
                    "min": None,
                    "avg": None,
                    "max": None,
                    "systolic": None,
                    "diastolic": None,
                    "attrs": None,
                }
            ],
            "truncated": True,
        }
    )
    metric: str
    unit: str | None = Field(description="null: a metric the catalogue does not know")
    samples: list[Sample]
    truncated: bool = Field(description="More samples exist in the range than were returned")
