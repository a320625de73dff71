"""The job store: all persistent state of the service, one sub-store per resource.

``Store(settings)`` opens the database and offers ``tokens``, ``presets``,
``uploads``, ``jobs``, ``leases`` (the workers' side of jobs), ``deliveries``
(the webhook outbox), ``watch_rules``, ``policy`` and ``audit`` (each job's
chain of custody). Each reads the time from one
injected clock (``time.time`` unless a test passes a fake one).
"""

from __future__ import annotations

import time

from veil.service import db
from veil.service.settings import ServiceSettings
from veil.service.store.audit import AuditStore
from veil.service.store.deliveries import DeliveryStore
from veil.service.store.jobs import JobStore
from veil.service.store.leases import LeaseStore
from veil.service.store.policy import PolicyStore
from veil.service.store.presets import PresetStore
from veil.service.store.records import (
    FINAL_STATES,
    AuditEvent,
    Clock,
    Conflict,
    Delivery,
    Job,
    JobSpec,
    JobState,
    NotFound,
    StoredPreset,
    Upload,
    WatchRule,
)
from veil.service.store.tokens import TokenStore, hash_token
from veil.service.store.uploads import UploadStore
from veil.service.store.watch_rules import WatchRuleStore

__all__ = [
    "FINAL_STATES",
    "AuditEvent",
    "Clock",
    "Conflict",
    "Delivery",
    "Job",
    "JobSpec",
    "JobState",
    "NotFound",
    "Store",
    "StoredPreset",
    "Upload",
    "WatchRule",
    "hash_token",
]


class Store:
    """One database engine and the sub-stores over it."""

    def __init__(self, settings: ServiceSettings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = db.make_engine(settings.db_url)
        self.tokens = TokenStore(self.engine, clock)
        self.presets = PresetStore(self.engine, clock)
        self.uploads = UploadStore(self.engine, clock)
        self.deliveries = DeliveryStore(self.engine, clock)
        self.jobs = JobStore(self.engine, clock, self.deliveries, settings.max_tries)
        self.leases = LeaseStore(self.engine, clock, self.jobs, settings.lease_seconds)
        self.watch_rules = WatchRuleStore(self.engine, clock)
        self.policy = PolicyStore(self.engine, clock)
        self.audit = AuditStore(self.engine, clock)

    def close(self) -> None:
        self.engine.dispose()
