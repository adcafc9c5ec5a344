"""``metric_rollups``: per user, metric, local day and source, what the daily reads need.

One row per (user, metric, local day, source) holds the count, sum, min and max of the
values a series reads, and the earliest sample of that day with its UTC offset (which
offset names a day's bucket). Rows with ``source_id`` 0 hold, for cumulative metrics
with more than one source, the same figures over periods instead of samples: one value
per period (the largest source's), the API's rule against counting the Watch and the
iPhone twice. A period row without ``first_at`` says that a day holding samples has no
period (they count on a neighbouring day, by the larger offset); with one source a
period is its sample, so no period rows are kept.

Value columns, as in ``health_data/metrics/repository.py``: ``n``/``total`` over
COALESCE(qty, avg, systolic) (sum, avg, count), ``n_low``/``low`` over
COALESCE(min, qty, avg, systolic) (min), ``n_high``/``high`` over
COALESCE(max, qty, avg, systolic) (max), and ``qty_total`` (period rows only) the sum
of qty that /activity/daily adds up.

``metric_hourly_rollups`` holds the same figures per UTC hour (and source, with the
same source-0 rows per period), without offsets: ``tz=`` answers regroup them by the
asked zone, which is exact when every hour of the range falls in one local day of the
zone (whole-hour offsets, changes on UTC hours: ``rollups/zones.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
)

from health_export.core.db import Base

# The source_id of the rows deduplicated across sources (no source has id 0).
ALL_SOURCES = 0

metric_rollups = Table(
    "metric_rollups",
    Base.metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("metric_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=True),
    Column("first_off", SmallInteger, nullable=True),
    Column("n", Integer, nullable=False),
    Column("total", Double, nullable=True),
    Column("n_low", Integer, nullable=False),
    Column("low", Double, nullable=True),
    Column("n_high", Integer, nullable=False),
    Column("high", Double, nullable=True),
    Column("qty_total", Double, nullable=True),
    PrimaryKeyConstraint("user_id", "metric_id", "day", "source_id"),
)

metric_hourly_rollups = Table(
    "metric_hourly_rollups",
    Base.metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("metric_id", Integer, nullable=False),
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Column("total", Double, nullable=True),
    Column("n_low", Integer, nullable=False),
    Column("low", Double, nullable=True),
    Column("n_high", Integer, nullable=False),
    Column("high", Double, nullable=True),
    Column("qty_total", Double, nullable=True),
    PrimaryKeyConstraint("user_id", "metric_id", "hour", "source_id"),
)
