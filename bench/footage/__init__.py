"""Real-footage evaluation: hand-checked face labels for the clips in
``../shared/data/videos`` and the scores of redaction tools against them.

``labels`` reads and writes the label files, ``propose`` makes the machine
proposals they start from, ``corrections`` applies the hand corrections,
``sheets`` draws contact sheets for checking by eye, and ``score`` scores a
tool's output; ``bench/eval_footage.py`` runs the tools.
"""
