"""The tables, in SQLAlchemy Core so that SQLite (default, WAL) and PostgreSQL both work.

A database made by an older veil is brought up to date when it is opened
(:func:`migrate`): missing columns are added, 32-bit size columns widened.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
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
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from veil.errors import VeilError

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
    # encrypted (veil.service.secrets); None: the preset's, else the default secret
    Column("webhook_secret", String(512), nullable=True),
    Column("token_name", String(128), nullable=True),  # the owner
    Column("team", String(128), nullable=True, index=True),  # shares the job, if set
    # the uploads the job uses: deleting the last job that uses one deletes it
    Column("upload_id", String(32), nullable=True, index=True),
    Column("annotations_upload_id", String(32), nullable=True, index=True),
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
    Column("webhook_secret", String(512), nullable=True),  # encrypted
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the secret
    Column("role", String(16), nullable=False, server_default="operator"),
    Column("team", String(128), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("filename", String(1024), nullable=False),
    Column("size", BigInteger, nullable=True),  # announced size (chunked uploads)
    Column("received", BigInteger, nullable=False, default=0),
    Column("complete", Boolean, nullable=False, default=False),
    Column("kind", String(16), nullable=True),  # video | image | annotations
    Column("token_name", String(128), nullable=True),  # the owner
    Column("team", String(128), nullable=True),
    # a chunk is being written until then: a second PATCH meanwhile is refused
    Column("writing_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

# what admins decide for everyone: one row
policy = Table(
    "policy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_by", String(128), nullable=True),
    Column("updated_at", Float, nullable=False),
)

# who did what to a job, append-only; each event's hash covers the one before it
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("who", String(128), nullable=True),
    Column("action", String(64), nullable=False),
    Column("details", JSON, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("job_id", "seq", name="audit_events_job_seq"),
)

# webhook outbox: written with the state change, delivered by any process
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(32), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("body", Text, nullable=False),  # the secret stays with the job or preset
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


def migrate(engine: Engine) -> None:
    """Add the columns a database made by an older veil lacks; widen its size columns."""
    found = inspect(engine)
    postgres = engine.dialect.name == "postgresql"
    statements = []
    for table in metadata.sorted_tables:
        if not found.has_table(table.name):
            continue
        present = {c["name"]: c for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(engine.dialect)
                default = f" DEFAULT '{column.server_default.arg}'" if column.server_default else ""
                statements.append(
                    f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{default}"
                )
            elif postgres and isinstance(column.type, BigInteger | String):
                # SQLite's integers are 64-bit and its strings unbounded; PostgreSQL's are not
                wanted = column.type.compile(engine.dialect)
                if present[column.name]["type"].compile(engine.dialect) != wanted:
                    statements.append(
                        f"ALTER TABLE {table.name} ALTER COLUMN {column.name} TYPE {wanted}"
                    )
    for statement in statements:
        try:
            with engine.begin() as c:
                c.execute(text(statement))
        except DBAPIError:  # another process did it at the same moment
            pass


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a long busy timeout and its folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:  # the URL's driver is an optional extra
            raise VeilError(
                f"a {parsed.drivername} database needs the {exc.name} package; "
                "veil's is psycopg: pip install 'veil[postgres]', URL postgresql+psycopg://"
            ) from exc
    try:
        metadata.create_all(engine)
    except OperationalError:  # another process created the tables at the same moment
        metadata.create_all(engine)
    migrate(engine)
    return engine
