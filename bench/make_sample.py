"""Write a short sample video with two moving faces and a tone: ``make_sample.py OUT.mp4``."""

import sys
from pathlib import Path

from evaluation.samples import make_sample_video

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "sample.mp4")
    make_sample_video(out, width=960, height=540, frames=96, fps=24)
    print(f"Sample video: {out}")
