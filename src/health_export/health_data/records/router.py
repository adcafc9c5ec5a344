"""Read API: sleep, workouts and routes, and the other record types (scope ``read``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from health_export.health_data.access import ReadSessionDep, TargetUser
from health_export.health_data.params import (
    EndQuery,
    LimitQuery,
    StartQuery,
    TzQuery,
    parse_bbox,
    parse_range,
    parse_zone,
)
from health_export.health_data.records import record_types, sleep, workouts
from health_export.health_data.records.geo import (
    GPX_MEDIA_TYPE,
    download_name,
    route_feature,
    route_gpx,
)
from health_export.health_data.records.schemas import (
    RouteFeature,
    SleepNights,
    WorkoutDetail,
    WorkoutList,
)
from health_export.health_data.records.type_schemas import (
    CycleTrackingList,
    EcgDetail,
    EcgList,
    HeartRateNotificationList,
    MedicationList,
    RecordList,
    StateOfMindList,
    SymptomList,
)
from health_export.health_data.responses import health_response, json_response

router = APIRouter(prefix="/api/v1", tags=["read"])
ERRORS: dict[int | str, dict[str, str]] = {
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    400: {"description": "A bad parameter (problem+json naming it)"},
}
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such record of yours"}}


@router.get("/sleep", response_model=SleepNights, responses=ERRORS)
async def sleep_nights(
    request: Request,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """Nights with stages, totals and efficiency (aggregated or segment exports alike)."""
    answer = await sleep.nights(session, user_id, parse_range(start, end))
    return await json_response(request, answer)


@router.get("/workouts", response_model=WorkoutList, responses=ERRORS)
async def list_workouts(
    request: Request,
    user_id: TargetUser,
    session: ReadSessionDep,
    start: StartQuery = None,
    end: EndQuery = None,
    type: Annotated[str | None, Query(description="Workout name, e.g. Outdoor Run")] = None,  # noqa: A002
    bbox: Annotated[
        str | None,
        Query(description="minLon,minLat,maxLon,maxLat: only workouts whose route meets it"),
    ] = None,
    limit: LimitQuery = 1000,
    tz: TzQuery = None,
) -> Response:
    """Workouts in time order; ``bbox`` is answered by PostGIS on the route geometry."""
    span = parse_range(start, end, parse_zone(tz))  # a bare date: midnight in tz=, else UTC
    answer = await workouts.list_workouts(
        session, user_id, span, kind=type, bbox=parse_bbox(bbox), limit=limit
    )
    return await json_response(request, answer)


@router.get(
    "/workouts/{workout_id}", response_model=WorkoutDetail, responses={**ERRORS, **NOT_FOUND}
)
async def workout_detail(
    request: Request, workout_id: str, user_id: TargetUser, session: ReadSessionDep
) -> Response:
    """One workout with its summaries, metadata and time series."""
    answer = await workouts.workout_detail(session, user_id, workout_id)
    return await json_response(request, answer)


@router.get(
    "/workouts/{workout_id}/route",
    response_model=RouteFeature,
    responses={
        **ERRORS,
        **NOT_FOUND,
        200: {"content": {GPX_MEDIA_TYPE: {}}, "description": "GeoJSON, or GPX with format=gpx"},
    },
)
async def workout_route(
    request: Request,
    workout_id: str,
    user_id: TargetUser,
    session: ReadSessionDep,
    format: Literal["geojson", "gpx"] = "geojson",  # noqa: A002
) -> Response:
    """The route as a GeoJSON Feature (LineString; times and speeds in properties) or GPX 1.1."""
    route = await workouts.workout_route(session, user_id, workout_id)
    if format == "gpx":
        response = await health_response(request, route_gpx(route), GPX_MEDIA_TYPE)
        response.headers["Content-Disposition"] = download_name(workout_id, "gpx")
        return response
    feature = route_feature(workout_id, route)
    response = await json_response(request, feature)
    if response.status_code == 200:
        response.headers["Content-Type"] = "application/geo+json"
    return response


def _record_route(path: str, name: str, model: type[RecordList[Any]], summary: str) -> None:
    async def endpoint(
        request: Request,
        user_id: TargetUser,
        session: ReadSessionDep,
        start: StartQuery = None,
        end: EndQuery = None,
        limit: LimitQuery = 1000,
    ) -> Response:
        answer = await record_types.list_records(
            session, user_id, name, parse_range(start, end), limit
        )
        return await json_response(request, answer)

    endpoint.__doc__ = summary
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        response_model=model,
        responses=ERRORS,
        name=f"list_{name}",
        summary=summary,
    )


_record_route("/symptoms", "symptoms", SymptomList, "Symptoms, as logged (localised names)")
_record_route("/state-of-mind", "state_of_mind", StateOfMindList, "State of mind entries")
_record_route("/medications", "medications", MedicationList, "Medication doses")
_record_route("/cycle-tracking", "cycle_tracking", CycleTrackingList, "Cycle tracking events")
_record_route("/ecg", "ecg", EcgList, "ECG recordings (without voltages: see /ecg/{id})")
_record_route(
    "/heart-rate-notifications",
    "heart_rate_notifications",
    HeartRateNotificationList,
    "High, low and irregular heart-rate notifications (as sent)",
)


@router.get("/ecg/{recording_id}", response_model=EcgDetail, responses={**ERRORS, **NOT_FOUND})
async def ecg_detail(
    request: Request, recording_id: str, user_id: TargetUser, session: ReadSessionDep
) -> Response:
    """One ECG recording with its voltage samples (µV)."""
    answer: dict[str, Any] = await record_types.ecg_detail(session, user_id, recording_id)
    return await json_response(request, answer)
