"""Tests of veil.pipeline."""
