"""Video evaluation: generated scenarios with exact ground truth, and their scores.

``sources`` loads face photos and background footage, ``scenarios`` composites
them into test videos with per-frame ground truth, and ``metrics`` scores any
tool's redacted output (leaks, longest leaked run, background altered) and
veil's annotations (IDF1, ID switches). ``bench/eval_video.py`` runs it all.
``samples`` writes small videos with known face boxes for the demo, the
benchmarks and the tests.

Not part of veil's wheel (it lives beside the package, in ``bench/``): the
scripts in ``bench/`` find it on their own folder, pytest through its
``pythonpath`` setting.
"""
