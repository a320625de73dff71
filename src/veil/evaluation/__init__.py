"""Video evaluation: generated scenarios with exact ground truth, and their scores.

``sources`` loads face photos and background footage, ``scenarios`` composites
them into test videos with per-frame ground truth, and ``metrics`` scores any
tool's redacted output (leaks, longest leaked run, background altered) and
veil's annotations (IDF1, ID switches). ``bench/eval_video.py`` runs it all.
"""
