"""Tests of veil.annotations."""
