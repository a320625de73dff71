"""Tests of veil.detect."""
