"""Response models of the other record types: symptoms, state of mind, medications, cycle
tracking, ECG, heart-rate notifications (times at the sender's offset, strings as sent)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel

from health_export.health_data.metrics.schemas import example

_T = "2024-03-14T07:00:00-04:00"
_WATCH = "Eli’s Apple\u00a0Watch"
_SPAN = {"start": _T, "end": _T}
Item = TypeVar("Item", bound=BaseModel)


class RecordList(BaseModel, Generic[Item]):
    """Records of one type in time order; ``truncated`` when more than ``limit`` exist."""

    items: list[Item]
    truncated: bool


class Span(BaseModel):
    """When a record happened: a moment (end = start), a span, or a start alone."""

    start: AwareDatetime
    end: AwareDatetime | None


class Symptom(Span):
    """One logged symptom (localised name and severity, as sent)."""

    name: str
    severity: str | None
    user_entered: bool | None
    source: str
    attrs: dict[str, Any] | None


class SymptomList(RecordList[Symptom]):
    """Symptom records in time order."""

    model_config = example(
        {
            "items": [
                {
                    **_SPAN,
                    "name": "Headache",
                    "severity": "Mild",
                    "user_entered": True,
                    "source": "Health",
                    "attrs": None,
                }
            ],
            "truncated": False,
        }
    )


class StateOfMind(Span):
    """One state of mind entry: a momentary emotion or a daily mood."""

    entry_id: str
    kind: str | None
    labels: list[str] | None
    associations: list[str] | None
    valence: float | None
    valence_classification: str | None
    metadata: dict[str, Any] | None


class StateOfMindList(RecordList[StateOfMind]):
    """StateOfMind records in time order."""

    model_config = example(
        {
            "items": [
                {
                    **_SPAN,
                    "entry_id": "A1B2",
                    "kind": "daily_mood",
                    "labels": ["calm"],
                    "associations": ["work"],
                    "valence": 0.4,
                    "valence_classification": "slightly_pleasant",
                    "metadata": None,
                }
            ],
            "truncated": False,
        }
    )


class Medication(Span):
    """One logged dose; ``codings`` as the app sent them (RxNorm and others)."""

    display_text: str
    nickname: str | None
    scheduled: AwareDatetime | None
    form: str | None
    status: str | None
    is_archived: bool | None
    dosage: float | None
    scheduled_dosage: float | None
    units: str | None
    codings: list[dict[str, Any]] | None
    attrs: dict[str, Any] | None


class MedicationList(RecordList[Medication]):
    """Medication records in time order."""

    model_config = example(
        {
            "items": [
                {
                    **_SPAN,
                    "display_text": "Ibuprofen",
                    "nickname": None,
                    "scheduled": None,
                    "form": "tablet",
                    "status": "Taken",
                    "is_archived": False,
                    "dosage": 1.0,
                    "scheduled_dosage": 1.0,
                    "units": "tablet",
                    "codings": [
                        {"code": "5640", "system": "http://www.nlm.nih.gov/research/umls/rxnorm"}
                    ],
                    "attrs": None,
                }
            ],
            "truncated": False,
        }
    )


class CycleTracking(Span):
    """One cycle tracking event (menstrual flow, ...)."""

    name: str
    value: str | None
    is_cycle_start: bool | None
    attrs: dict[str, Any] | None


class CycleTrackingList(RecordList[CycleTracking]):
    """CycleTracking records in time order."""

    model_config = example(
        {
            "items": [
                {
                    **_SPAN,
                    "name": "Menstrual Flow",
                    "value": "Medium",
                    "is_cycle_start": True,
                    "attrs": None,
                }
            ],
            "truncated": False,
        }
    )


class EcgSummary(BaseModel):
    """One ECG recording without its voltages (GET /api/v1/ecg/{id} has them)."""

    id: str
    start: AwareDatetime
    end: AwareDatetime | None
    classification: str | None
    severity: str | None
    average_heart_rate: float | None
    sampling_frequency_hz: float | None
    number_of_measurements: int | None
    source: str
    attrs: dict[str, Any] | None


class EcgList(RecordList[EcgSummary]):
    """Ecg records in time order."""

    model_config = example(
        {
            "items": [
                {
                    "id": "1710414240000000-3",
                    **_SPAN,
                    "classification": "Sinus Rhythm",
                    "severity": None,
                    "average_heart_rate": 64.0,
                    "sampling_frequency_hz": 512.0,
                    "number_of_measurements": 15360,
                    "source": _WATCH,
                    "attrs": None,
                }
            ],
            "truncated": False,
        }
    )


class HeartRateNotification(Span):
    """One high, low or irregular heart-rate notification; ``raw`` is the item as sent."""

    kind: str
    threshold: float | None
    raw: dict[str, Any]


class HeartRateNotificationList(RecordList[HeartRateNotification]):
    """HeartRateNotification records in time order."""

    model_config = example(
        {
            "items": [
                {
                    **_SPAN,
                    "kind": "high_heart_rate_notification",
                    "threshold": 120.0,
                    "raw": {"heartNotification": "high_heart_rate_notification"},
                }
            ],
            "truncated": False,
        }
    )


class EcgDetail(BaseModel):
    """One ECG recording with its voltage samples (µV, at sampling_frequency_hz)."""

    model_config = example(
        {
            "id": "1710414240000000-3",
            **_SPAN,
            "source": _WATCH,
            "classification": "Sinus Rhythm",
            "severity": None,
            "average_heart_rate": 64.0,
            "sampling_frequency_hz": 512.0,
            "number_of_measurements": 3,
            "first_sample": _T,
            "voltages_uv": [12.5, 14.1, 13.0],
            "attrs": None,
        }
    )
    id: str
    start: AwareDatetime
    end: AwareDatetime | None
    source: str
    classification: str | None
    severity: str | None
    average_heart_rate: float | None
    sampling_frequency_hz: float | None
    number_of_measurements: int | None
    first_sample: AwareDatetime | None
    voltages_uv: list[float]
    attrs: dict[str, Any] | None
