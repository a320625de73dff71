"""Tests of veil.audio."""
