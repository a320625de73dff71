"""Tests of veil.emotion."""
