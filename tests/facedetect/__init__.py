"""Tests of veil.facedetect."""
