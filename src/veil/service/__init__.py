"""Redaction as a service: a job store, workers, a REST API and storage-event triggers.

A thin shell over :mod:`veil.pipeline`: every job ends in a call to
``analyze``, ``redact`` or ``combined`` with explicit paths and a
``PipelineConfig``; this package only stores, schedules, moves files and talks HTTP.
"""
