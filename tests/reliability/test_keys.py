"""Scenario 9: random and malformed keys are all refused alike, malformed ones without SQL."""

from __future__ import annotations

import asyncio
import random
import secrets
import string
import uuid
from typing import Any

import httpx
import pytest

from health_export.auth import keys
from tests.reliability.conftest import recording_client, sql
from tests.reliability.server import ServerProcess

pytestmark = pytest.mark.faults

FIXED_REQUEST_ID = "keys-probe"


def well_formed_keys(count: int, rng: random.Random) -> list[str]:
    """Valid-looking keys of every format (right checksum, right shape), none issued."""
    made = []
    for index in range(count):
        kind = index % 3
        if kind == 0:
            made.append(keys.generate(keys.KeyFormat.TOKEN))
        elif kind == 1:
            made.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        else:
            alphabet = string.ascii_letters + string.digits + "-_"
            made.append("".join(rng.choice(alphabet) for _ in range(40)))
    return made


def malformed_keys(count: int, rng: random.Random) -> list[str]:
    """Values no key format accepts: short, bad checksum, spaces, too long, non-ASCII."""
    made = []
    for index in range(count):
        kind = index % 6
        if kind == 0:
            made.append(
                "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 19)))
            )
        elif kind == 1:
            token = keys.generate(keys.KeyFormat.TOKEN)
            made.append(token[:-1] + ("0" if token[-1] != "0" else "1"))
        elif kind == 2:
            made.append("has spaces " + secrets.token_hex(12))
        elif kind == 3:
            made.append("x" * rng.randint(257, 600))
        elif kind == 4:
            made.append("hea_" + secrets.token_hex(rng.randint(1, 30)))
        else:
            made.append("ключ" + secrets.token_hex(12))
    return made


async def lookup_calls(database_url: str) -> int:
    """How many key lookups (queries on api_keys by digest) PostgreSQL has run."""
    rows = await sql(
        database_url,
        "SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_statements "
        "WHERE query ILIKE '%FROM api_keys%' AND query ILIKE '%digest%'",
    )
    return int(rows[0]["n"])


async def probe(server: ServerProcess, values: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=8)
    async with recording_client(server.url, limits=limits) as http:
        semaphore = asyncio.Semaphore(8)

        async def one(value: str) -> httpx.Response:
            async with semaphore:
                headers = [
                    (b"Authorization", b"Bearer " + value.encode()),
                    (b"X-Request-ID", FIXED_REQUEST_ID.encode()),
                ]
                return await http.post("/api/v1/ingest", json={"data": {}}, headers=headers)

        return await asyncio.gather(*(one(v) for v in values))


def assert_all_refused_alike(answers: list[httpx.Response]) -> None:
    statuses = {a.status_code for a in answers}
    assert statuses == {401}, statuses
    assert len({a.content for a in answers}) == 1
    assert all(a.headers["www-authenticate"].startswith("Bearer") for a in answers)


async def check_keys(server: ServerProcess, reliability_db: str, count: int) -> None:
    rng = random.Random(count)
    issued = await sql(reliability_db, "SELECT count(*) AS n FROM api_keys")
    assert issued[0]["n"] >= 0
    well_formed = well_formed_keys(count, rng)
    answers = await probe(server, well_formed)
    assert_all_refused_alike(answers)
    before = await lookup_calls(reliability_db)
    malformed = malformed_keys(count, rng)
    assert all(keys.format_of(v) is None for v in malformed)
    bad_answers = await probe(server, malformed)
    assert_all_refused_alike(bad_answers)
    assert bad_answers[0].content == answers[0].content  # one body for every cause
    await asyncio.sleep(0.6)  # statistics are flushed asynchronously
    assert await lookup_calls(reliability_db) == before


async def test_random_and_malformed_keys_are_refused_alike_and_malformed_skip_sql(
    server: ServerProcess, reliability_db: str, key_factory: Any
) -> None:
    await key_factory()  # some real keys exist
    await check_keys(server, reliability_db, 1000)


@pytest.mark.reliability_long
async def test_ten_thousand_random_and_ten_thousand_malformed_keys(
    server: ServerProcess, reliability_db: str, key_factory: Any
) -> None:
    await key_factory()
    await check_keys(server, reliability_db, 10_000)
