"""Tests of veil.objects."""
