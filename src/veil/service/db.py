"""The tables, in SQLAlchemy Core so that SQLite (default, WAL) and PostgreSQL both work."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    # one job per source object version / watched file: a second submit returns the first
    Column("unique_key", String(1024), unique=True, nullable=True),
    Column("state", String(16), nullable=False, index=True),
    Column("mode", String(16), nullable=False),
    Column("preset", String(128), nullable=True, index=True),
    Column("options", JSON, nullable=False),  # resolved settings the job runs with
    Column("source", JSON, nullable=False),  # where the input comes from
    Column("source_name", String(255), nullable=False),  # sanitised name, for outputs
    Column("output", String(2048), nullable=True),  # None: the data folder; s3://; a folder
    Column("annotations", String(2048), nullable=True),  # redact jobs: a stored file
    Column("ids", JSON, nullable=True),
    Column("webhook_url", String(2048), nullable=True),
    Column("webhook_secret", String(256), nullable=True),
    Column("token_name", String(128), nullable=True),
    Column("frames_done", Integer, nullable=False, default=0),
    Column("frames_total", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("tries", Integer, nullable=False, default=0),
    Column("max_tries", Integer, nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("not_before", Float, nullable=False, default=0.0),
    Column("created_at", Float, nullable=False, index=True),
    Column("updated_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("outputs", JSON, nullable=True),
    Column("report", JSON, nullable=True),
)

# every state change, in order: the audit trail, and how tests count "finished once"
job_events = Table(
    "job_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(128), nullable=True),
    Column("detail", Text, nullable=True),
    Column("at", Float, nullable=False),
)

presets = Table(
    "presets",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("azure", JSON, nullable=False),  # the Azure preset JSON, as given
    Column("options", JSON, nullable=False),  # veil's own: {"detector": {}, "encoder": {}}
    Column("webhook_url", String(2048), nullable=True),
    Column("webhook_secret", String(256), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the secret
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("size", Integer, nullable=True),  # announced size (chunked uploads)
    Column("received", Integer, nullable=False, default=0),
    Column("complete", Boolean, nullable=False, default=False),
    Column("kind", String(16), nullable=True),  # video | image | annotations
    Column("token_name", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
)

# webhook outbox: written with the state change, delivered by any process
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("secret", String(256), nullable=True),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False, index=True),
    Column("done", Boolean, nullable=False, default=False),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", Float, nullable=True),
)

# S3 sources whose pushed events (POST /v1/events/s3) become jobs
watch_rules = Table(
    "watch_rules",
    metadata,
    Column("source", String(1024), primary_key=True),  # s3://bucket/prefix
    Column("output", String(2048), nullable=False),
    Column("preset", String(128), nullable=True),
    Column("suffixes", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

Index("jobs_claim", jobs.c.state, jobs.c.not_before, jobs.c.created_at)
Index("deliveries_due", deliveries.c.done, deliveries.c.next_at)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a long busy timeout and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        metadata.create_all(engine)
    except OperationalError:  # another process created the tables at the same moment
        metadata.create_all(engine)
    return engine
