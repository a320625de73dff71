"""Tests of veil.media."""
