"""Tests of the redaction service (veil.service)."""
