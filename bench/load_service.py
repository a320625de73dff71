"""Load test of the service: 200 jobs from 20 clients while a worker is killed twice.

Starts ``veil serve --workers 0`` and two ``python -m veil.service.worker``
processes on 127.0.0.1 with a fresh data folder, creates a token, then 20 client
threads upload short clips (10 jobs each, through ``POST /v1/jobs/upload``).
While jobs run, one worker is killed with SIGKILL and started again, twice.
When every job has ended it reports, from the API and the job store:

- jobs lost: accepted (HTTP 202) but not finished;
- duplicated outputs: jobs finished more than once, or with other files than
  exactly one redacted video, annotations and report;
- partial files left anywhere in the data folder.

Exit code 0 only if all three are zero.

    .venv/bin/python bench/load_service.py [--jobs 200] [--clients 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from evaluation.samples import MovingFace, make_sample_video
from veil.service.settings import ServiceSettings
from veil.service.store import Store

EXPECTED = {"clip_annotations.json", "clip_redacted.mp4", "clip_report.json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def busy_worker(store: Store, workers: list[subprocess.Popen], wait: float = 30) -> int:
    """The index of a worker that holds a job's lease now (any, after ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        owners = {j.lease_owner for j in store.jobs.list(states=["processing"], limit=50)}
        pids = {int(o.rsplit(":", 1)[1]) for o in owners if o}
        for i, proc in enumerate(workers):
            if proc.pid in pids:
                return i
        time.sleep(0.01)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument("--keep", action="store_true", help="keep the data folder to look at")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="veil-load-"))
    data = root / "data"
    clip = root / "clip.mp4"
    faces = [MovingFace(size=60, start=(40, 30), end=(120, 40))]
    make_sample_video(clip, 320, 180, args.frames, 8, faces, audio=False)
    body = clip.read_bytes()

    settings = ServiceSettings(data_dir=data, lease_seconds=3.0, max_tries=3, poll_seconds=0.1)
    env = {**os.environ, **settings.env(), "OMP_WAIT_POLICY": "PASSIVE"}
    store = Store(settings)
    token = store.tokens.create("load")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    logs = open(root / "processes.log", "wb")  # noqa: SIM115 - closed at the end
    serve = subprocess.Popen(
        [sys.executable, "-m", "veil", "serve", "--workers", "0", "--port", str(port)],
        env=env,
        stdout=logs,
        stderr=logs,
    )

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "veil.service.worker"], env=env, stdout=logs, stderr=logs
        )

    workers = [start_worker(), start_worker()]
    headers = {"Authorization": f"Bearer {token}"}
    accepted: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("veil serve did not start")
            time.sleep(0.2)
        preset = {"preset": {"mode": "combined"}, "detector": {"input_size": 320}}
        preset["encoder"] = {"preset": "ultrafast"}
        httpx.put(f"{url}/v1/presets/load", json=preset, headers=headers).raise_for_status()

        per_client = [args.jobs // args.clients] * args.clients
        for i in range(args.jobs % args.clients):
            per_client[i] += 1

        def client(n: int) -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
                for _ in range(n):
                    try:
                        r = http.post(
                            "/v1/jobs/upload",
                            params={"filename": "clip.mp4", "preset": "load"},
                            content=body,
                        )
                    except httpx.HTTPError as exc:
                        with lock:
                            refused.append(repr(exc))
                        continue
                    with lock:
                        (accepted if r.status_code == 202 else refused).append(
                            r.json()["id"] if r.status_code == 202 else r.text
                        )

        clients = [threading.Thread(target=client, args=(n,)) for n in per_client]
        for t in clients:
            t.start()

        def finished_count() -> int:
            return store.jobs.count().get("finished", 0)

        kills = []
        for k in range(args.kills):
            target = args.jobs * (k + 1) // (args.kills + 1)
            while finished_count() < target:
                time.sleep(0.05)
            # kill a worker in the middle of a job (one holding a lease)
            index = busy_worker(store, workers)
            victim = workers[index]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills.append({"after_finished": finished_count(), "pid": victim.pid})
            time.sleep(0.5)
            workers[index] = start_worker()
        for t in clients:
            t.join()
        deadline = time.monotonic() + 600
        while True:
            counts = store.jobs.count()
            if counts.get("queued", 0) + counts.get("processing", 0) == 0:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for proc in [*workers, serve]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*workers, serve]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()

    jobs = {job.id: job for job in store.jobs.list(limit=100_000)}
    finished_events = Counter(e["job_id"] for e in store.jobs.events() if e["state"] == "finished")
    lost = [j for j in accepted if j not in jobs or jobs[j].state != "finished"]
    duplicated = [j for j, n in finished_events.items() if n > 1]
    wrong_outputs = []
    for job_id in accepted:
        folder = settings.outputs_dir / job_id
        names = {p.name for p in folder.iterdir()} if folder.exists() else set()
        if job_id in jobs and jobs[job_id].state == "finished" and names != EXPECTED:
            wrong_outputs.append(job_id)
    partials = [str(p) for p in data.rglob("*partial*")]
    rerun = sum(1 for j in accepted if j in jobs and jobs[j].tries > 1)
    result = {
        "jobs_submitted": args.jobs,
        "clients": args.clients,
        "accepted": len(accepted),
        "refused": len(refused),
        "finished": sum(1 for j in accepted if j in jobs and jobs[j].state == "finished"),
        "workers_killed": len(kills),
        "jobs_rerun_after_a_kill": rerun,
        "jobs_lost": len(lost),
        "duplicated_outputs": len(duplicated) + len(wrong_outputs),
        "partial_files_left": len(partials),
        "seconds": round(elapsed, 1),
        "jobs_per_second": round(len(accepted) / elapsed, 2),
        "data": str(data),
    }
    store.close()
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
        del result["data"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    ok = not lost and not duplicated and not wrong_outputs and not partials and not refused
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
