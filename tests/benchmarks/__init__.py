"""Tests of the evaluation and benchmark code in bench/."""
