"""Tests of veil.track."""
