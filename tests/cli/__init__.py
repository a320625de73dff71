"""Tests of the command line (veil.cli) and of installing veil."""
