"""``veil doctor``: what this installation has, what it will use, and what is missing.

Each finding is one line: ``ok`` (present), ``--`` (optional and absent, with
the command that adds it) or ``MISSING`` (veil cannot work as installed; the
exit code is then 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import stat
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from veil import version
from veil.errors import VeilError

OK, OPTIONAL, MISSING = "ok", "--", "MISSING"
# optional capabilities: (what, import name, the command that installs it)
EXTRAS = (
    ("OpenVINO runtime", "openvino", "pip install 'veil[openvino]'"),
    ("PostgreSQL job store", "psycopg", "pip install 'veil[postgres]'"),
    ("Ray distributed runs", "ray", "pip install 'veil[ray]'"),
)


@dataclass(frozen=True)
class Finding:
    status: str
    area: str
    text: str


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check this installation: models, runtimes, GPU, codecs, folders",
        description="Check this installation. Exit 1 naming what is missing.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    findings = examine()
    print(f"veil {version()} (Python {platform.python_version()}, {platform.platform()})")
    return report(findings)


def report(findings: list[Finding]) -> int:
    """Print one line per finding; 1 (naming each) if one is missing, else 0."""
    for finding in findings:
        print(f"{finding.status:>7}  {finding.area:<8} {finding.text}")
    missing = [f for f in findings if f.status == MISSING]
    if missing:
        names = "; ".join(f"{f.area}: {f.text}" for f in missing)
        print(f"veil: error: {len(missing)} missing: {names}", file=sys.stderr)
        return 1
    return 0


def examine() -> list[Finding]:
    return [*models(), *runtimes(), *video(), *folders(), *extras()]


def models() -> list[Finding]:
    from veil.detect.models import INSTALL, check_models

    findings = []
    for check in check_models():
        model = check.model
        where = f"{model.name} ({model.purpose}): {model.requirement} {model.inside}"
        if check.path is None:
            findings.append(Finding(MISSING, "model", f"{where}: not installed ({INSTALL})"))
        elif not check.intact:
            findings.append(
                Finding(
                    MISSING,
                    "model",
                    f"{where}: sha256 {check.sha256} is not {model.sha256} ({INSTALL})",
                )
            )
        else:
            findings.append(Finding(OK, "model", f"{where} sha256 {check.sha256}"))
    return findings


def runtimes() -> list[Finding]:
    import onnxruntime as ort

    from veil.detect import DetectorConfig, load_detector
    from veil.detect.runners import openvino_available

    providers = ort.get_available_providers()
    findings = [Finding(OK, "runtime", f"onnxruntime {ort.__version__}: {', '.join(providers)}")]
    if openvino_available():
        findings.append(Finding(OK, "runtime", f"openvino {metadata.version('openvino')}"))
    if "CUDAExecutionProvider" in providers:
        findings.append(Finding(OK, "gpu", "CUDA (onnxruntime's CUDAExecutionProvider)"))
    else:
        findings.append(
            Finding(OPTIONAL, "gpu", "no CUDA in onnxruntime (on an NVIDIA GPU: onnxruntime-gpu)")
        )
    config = DetectorConfig()
    try:
        detector = load_detector(config)
    except (VeilError, RuntimeError, OSError) as exc:
        return [*findings, Finding(MISSING, "runtime", f"the default detector did not load: {exc}")]
    findings.append(
        Finding(
            OK, "runtime", f"chosen for {config.name} (device {config.device}): {detector.runtime}"
        )
    )
    return findings


def video() -> list[Finding]:
    from veil.media.hardware import (
        built_hardware_encoders,
        codec_versions,
        working_hardware_encoders,
    )

    findings = [Finding(OK, "video", codec_versions())]
    working = working_hardware_encoders()
    if working:
        findings.append(Finding(OK, "video", f"hardware encoders: {', '.join(working)}"))
    else:
        built = ", ".join(built_hardware_encoders()) or "none"
        findings.append(
            Finding(OPTIONAL, "video", f"no hardware encoder opens here (built in: {built})")
        )
    return findings


def folders() -> list[Finding]:
    from veil.detect.choice import cache_dir
    from veil.service.settings import ServiceSettings

    return [
        folder_finding("cache", cache_dir(), "built models and the runtime choice"),
        folder_finding("data", ServiceSettings.from_env().data_dir, "service jobs, VEIL_DATA_DIR"),
    ]


def folder_finding(area: str, folder: Path, purpose: str) -> Finding:
    """Whether ``folder`` (or the nearest folder above it, where it will be made) is
    writable, and who else may read it."""
    folder = folder.absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        return Finding(MISSING, area, f"{folder} ({purpose}): {existing} is not writable")
    if existing != folder:
        return Finding(OK, area, f"{folder} ({purpose}): not made yet, {existing} is writable")
    mode = stat.S_IMODE(folder.stat().st_mode)
    others = "other users may read it" if mode & 0o077 else "only its owner may open it"
    return Finding(OK, area, f"{folder} ({purpose}): writable, mode {mode:o}, {others}")


def extras() -> list[Finding]:
    import importlib.util

    return [
        Finding(OK, "extra", what)
        if importlib.util.find_spec(module) is not None
        else Finding(OPTIONAL, "extra", f"{what}: not installed ({command})")
        for what, module, command in EXTRAS
    ]
