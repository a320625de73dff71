"""Tests of veil.redact."""
