"""The probes themselves (see trust_probes.py): storage, review, service, killed uploads."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from trust_probes import (
    BOX,
    Service,
    dump,
    finished,
    in_background,
    probe,
    resigned,
    safely,
    stalled,
    wait,
)

STRICT = {"min_blur": "high", "require_review": True}


def storage_probes(service: Service, p: dict[str, httpx.Client], s3, clip: Path) -> dict:
    """Failures 1 to 3, and the S3 events; returns anna's analysed job."""
    root, anna, ben, boss = p["root"], p["anna"], p["ben"], p["boss"]
    allow = {"A": ["s3://teama-private/"], "B": ["s3://teamb/"], "*": ["s3://redacted/"]}
    root.put("/v1/policy", json={"s3_allow": allow})  # refused (422) where there is none
    s3.put_object(Bucket="teama-private", Key="evidence/case1.mp4", Body=clip.read_bytes())
    asked = ben.post(
        "/v1/jobs",
        json={"input": {"s3": "s3://teama-private/evidence/case1.mp4"}, "azure_preset": BOX},
    )
    probe(
        "failure",
        "1 another team's bucket",
        asked.status_code in (403, 404, 422),
        asked.status_code,
    )
    s3.put_object(Bucket="redacted", Key="cams/walk_redacted.mp4", Body=b"hers")
    up = ben.post("/v1/uploads", params={"filename": "walk.mp4"}, content=clip.read_bytes()).json()
    job = ben.post(
        "/v1/jobs", json={"input": {"upload_id": up["id"]}, "output": "s3://redacted/cams/"}
    )
    if job.status_code == 202:
        finished(ben, job.json()["id"])
    body = s3.get_object(Bucket="redacted", Key="cams/walk_redacted.mp4")["Body"].read()
    probe(
        "failure",
        "2 overwrite another's published output",
        body == b"hers",
        f"job {job.status_code}",
    )
    up = anna.post("/v1/uploads", params={"filename": "walk.mp4"}, content=clip.read_bytes()).json()
    annas = anna.post("/v1/jobs", json={"input": {"upload_id": up["id"]}, "mode": "analyze"}).json()
    derived = boss.post(
        "/v1/jobs", json={"input": {"job_id": annas["id"]}, "mode": "analyze"}
    ).json()
    reuse = ben.post("/v1/jobs", json={"input": {"job_id": derived.get("id")}, "mode": "analyze"})
    probe(
        "failure",
        "3 team A's original reaches team B",
        derived.get("team") == "A" and reuse.status_code in (403, 404),
        f"team {derived.get('team')}, reuse {reuse.status_code}",
    )
    finished(anna, annas["id"])
    safely("concern", "forged S3 events", lambda: _forged_events(service.data, p, s3, clip))
    return annas


def _forged_events(data: Path, p: dict[str, httpx.Client], s3, clip: Path) -> tuple[bool, object]:
    from veil.service.settings import ServiceSettings
    from veil.service.store import Store
    from veil.service.watch import S3Watcher

    store = Store(ServiceSettings(data_dir=data))
    settings = ServiceSettings(data_dir=data)
    S3Watcher(store, settings, "s3://raw9/cam", "s3://redacted/out9/")
    store.close()
    s3.put_object(Bucket="raw9", Key="cam/a.mp4", Body=clip.read_bytes())

    def event(key: str, etag: str, name: str = "s3:ObjectCreated:Put") -> dict:
        obj = {"key": key, "eTag": etag}
        return {"eventName": name, "s3": {"bucket": {"name": "raw9"}, "object": obj}}

    records = [event("cam/a.mp4", f"forged{n}") for n in range(20)]
    records += [event("cam/../cam/a.mp4", "x"), event("cam/a.mp4", "y", "Nothing:ObjectCreated")]
    answer = p["anna"].post("/v1/events/s3", json={"Records": records}).json()
    made = len(answer.get("jobs", []))
    for job in answer.get("jobs", []):
        p["root"].post(f"/v1/jobs/{job['job']}/cancel")
    return made == 0, f"{made} jobs from {len(records)} forged records"


def review_probes(service: Service, p: dict[str, httpx.Client], annas: dict) -> None:
    """Failures 4 and 5, and the concerns beside 4."""
    root, anna = p["root"], p["anna"]
    job = annas["id"]
    doc = anna.get(f"/v1/review/jobs/{job}").json()
    root.put("/v1/policy", json=STRICT)
    for frame, faces in enumerate(doc.get("frames", [])):
        for face_id, x, y, *_ in faces:
            edit = {"op": "box", "id": face_id, "frame": frame, "box": [x, y, 0.001, 0.001]}
            anna.post(f"/v1/review/jobs/{job}/edits", json={"edit": edit})
    last = len(doc.get("frames", [])) - 1
    anna.post(
        f"/v1/review/jobs/{job}/edits", json={"edit": {"op": "reviewed", "start": 0, "end": last}}
    )
    shrunk = anna.post(f"/v1/review/jobs/{job}/redact", json={"blur": "black"})
    probe(
        "failure",
        "4 boxes shrunk to 0.001, strict policy",
        shrunk.status_code != 202,
        shrunk.status_code,
    )
    anna.post(f"/v1/review/jobs/{job}/edits", json={"edit": {"op": "reset"}})
    anna.post(
        f"/v1/review/jobs/{job}/edits", json={"edit": {"op": "reviewed", "start": 0, "end": last}}
    )
    anna.post(f"/v1/review/jobs/{job}/edits", json={"edit": {"op": "select", "ids": []}})
    nothing = anna.post(
        f"/v1/review/jobs/{job}/redact", json={"blur": "black", "confirm": ["nothing-blurred"]}
    )
    trail = root.get(f"/v1/jobs/{job}/audit").json().get("events", [])
    named = [e for e in trail if e["action"] == "review.redact" and "ids_shown" in e["details"]]
    probe(
        "concern",
        "select [] + nothing-blurred: shown IDs named in the trail",
        nothing.status_code != 202 or bool(named),
        nothing.status_code,
    )
    blind = anna.post(
        "/v1/jobs",
        json={
            "input": {"job_id": job},
            "mode": "analyze",
            "detector": {"input_size": 32, "threshold": 0.99},
        },
    )
    probe(
        "concern",
        "detector that finds nothing, strict policy",
        blind.status_code >= 400,
        blind.status_code,
    )
    root.put("/v1/policy", json={"box_outputs": False})
    outline = anna.post(
        "/v1/jobs",
        json={"input": {"job_id": job}, "azure_preset": BOX, "output": "s3://redacted/box/"},
    )
    probe(
        "concern",
        "box video to S3 when the policy forbids",
        outline.status_code >= 400,
        outline.status_code,
    )
    root.put("/v1/policy", json={})
    for code in ("nothing", "blind", "outline"):
        answer = locals()[code]
        if answer.status_code == 202:
            root.post(f"/v1/jobs/{answer.json()['id']}/cancel")
    _link_probes(root, anna, job)


def _link_probes(root: httpx.Client, anna: httpx.Client, job: str) -> None:
    doc = anna.get(f"/v1/review/jobs/{job}").json()
    before = len(root.get(f"/v1/jobs/{job}/audit").json()["events"])
    link = doc["links"]["source"]
    played = httpx.get(root.base_url.join(link))
    after = len(root.get(f"/v1/jobs/{job}/audit").json()["events"])
    probe(
        "failure",
        "5 signed link read leaves no trail",
        played.status_code == 200 and after > before,
        f"{played.status_code}, {after - before} entries",
    )
    anna.post("/v1/review/signout")
    again = httpx.get(root.base_url.join(link))
    probe("failure", "5 signed link after sign-out", again.status_code == 403, again.status_code)


def service_probes(service: Service, p: dict[str, httpx.Client], s3, annas: dict) -> None:
    root, anna = p["root"], p["anna"]
    root.put("/v1/policy", json={"s3_allow": {"A": ["s3://teama-private/"]}})  # anna's inputs
    _verify_probes(root, annas["id"])
    root.put(
        "/v1/presets/probe", json={"preset": {"version": "1.0", "options": {"blurType": "High"}}}
    )
    trail = root.get("/v1/audit")
    probe(
        "concern",
        "preset/policy/token changes audited",
        trail.status_code == 200 and len(trail.json().get("events", [])) >= 2,
        trail.status_code,
    )
    up = anna.post("/v1/uploads", params={"filename": "x.mp4"}, content=b"\x00" * 10)
    root.delete(f"/v1/jobs/{annas['id']}")
    gone = root.get(f"/v1/jobs/{annas['id']}/audit")
    probe("concern", "audit of a deleted job, admin", gone.status_code == 200, gone.status_code)
    health = httpx.get(f"{service.url}/health").json()
    probe("concern", "/health counts without a token", "jobs" not in health, health)
    live = [
        httpx.get(f"{service.url}{path}").status_code
        for path in ("/live", "/live/metrics", "/live/x/stats")
    ]
    probe("concern", "/live/* without a token", all(s == 401 for s in live), live)
    creds = anna.post(
        "/v1/jobs",
        json={
            "input": {"s3": "s3://teama-private/evidence/case1.mp4"},
            "webhook_url": "https://u:secret@93.184.216.34/hook",
        },
    )
    probe("concern", "webhook URL credentials stored", creds.status_code >= 400, creds.status_code)
    for host in ("[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]", "[::127.0.0.1]"):
        hook = anna.post(
            "/v1/jobs",
            json={
                "input": {"s3": "s3://teama-private/evidence/case1.mp4"},
                "webhook_url": f"http://{host}/hook",
            },
        )
        probe("concern", f"webhook to {host}", hook.status_code >= 400, hook.status_code)
    for number in ("NaN", "Infinity", "1e999"):
        job = '"input": {"s3": "s3://teama-private/a.mp4"}'
        body = f'{{{job}, "detector": {{"threshold": {number}}}}}'
        headers = {"Content-Type": "application/json"}
        sent = code(lambda b=body, h=headers: anna.post("/v1/jobs", content=b, headers=h))
        probe("concern", f"JSON {number}", isinstance(sent, int) and 400 <= sent < 500, sent)
    for name, team in (
        ("Anna", None),
        ("rtl\u202e", None),
        ("nul\x00", None),
        ("t1", "a"),
        ("t2", "A\u202e"),
        ("t3", "A\x00"),
    ):
        made = code(lambda n=name, t=team: root.post("/v1/tokens", json={"name": n, "team": t}))
        probe(
            "concern",
            f"token {name!r} team {team!r}",
            made in (409, 422),
            made,
        )
    _quota_probes(root, anna)
    del up


def code(call) -> int | str:
    """The answer's status, or the name of the error (the server hung up)."""
    try:
        return call().status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__


def _verify_probes(root: httpx.Client, job: str) -> None:
    folder = Path(tempfile.mkdtemp())
    key = root.get("/v1/custody/key").json()["key"]
    trail = root.get(f"/v1/jobs/{job}/audit").json()
    forged = dump(folder / "forged.json", resigned(dict(trail, exported_at="2000-01-01T00:00:00Z")))
    unkeyed = _veil("verify", forged)
    probe("concern", "verify without --key, re-signed", unkeyed != 0, f"exit {unkeyed}")
    report = root.get(f"/v1/jobs/{job}/report").json()
    alone = dump(folder / "walk_report.json", report)
    keyed = _veil("verify", alone, "--key", key)
    probe("concern", "verify --key with no output present", keyed != 0, f"exit {keyed}")


def _veil(*args: object) -> int:
    command = [sys.executable, "-m", "veil", *map(str, args)]
    return subprocess.run(command, capture_output=True).returncode


def _quota_probes(root: httpx.Client, anna: httpx.Client) -> None:
    quotas = {"jobs_queued": 3, "upload_bytes": 10**6, "upload_sessions": 2}
    root.put("/v1/policy", json={"quotas": quotas, "s3_allow": {"A": ["s3://teama-private/"]}})
    body = {"input": {"s3": "s3://teama-private/none.mp4"}, "mode": "analyze"}
    answers = [anna.post("/v1/jobs", json=body).status_code for _ in range(20)]
    probe("concern", "quota: 20 jobs at once", 429 in answers, f"{answers.count(202)} accepted")
    sessions = [
        anna.post("/v1/uploads/sessions", params={"filename": "b.mp4", "size": 1000}).status_code
        for _ in range(5)
    ]
    probe("concern", "quota: 5 upload sessions at once", 201 not in sessions[2:], sessions)
    root.put("/v1/policy", json={})


def upload_kill_probes(service: Service, p: dict[str, httpx.Client], clip: Path) -> None:
    """Failure 6, the partial whole-file upload, and DELETE during PATCH."""
    anna, root = p["anna"], p["root"]
    data = clip.read_bytes()
    half = len(data) // 2
    session = anna.post(
        "/v1/uploads/sessions", params={"filename": "w.mp4", "size": len(data)}
    ).json()
    anna.patch(f"/v1/uploads/{session['id']}", content=data[:half], headers={"Upload-Offset": "0"})
    other = anna.post(
        "/v1/uploads/sessions", params={"filename": "v.mp4", "size": len(data)}
    ).json()
    stop, answers = threading.Event(), []
    auth = dict(anna.headers)
    in_background(
        {
            "method": "PATCH",
            "url": f"{service.url}/v1/uploads/{other['id']}",
            "headers": {**auth, "Upload-Offset": "0"},
            "content": stalled(data[:500], stop),
        },
        answers,
    )
    time.sleep(0.5)
    deleted = root.delete(f"/v1/uploads/{other['id']}")
    stop.set()
    wait(lambda: answers, 10)
    probe(
        "concern",
        "DELETE during PATCH",
        deleted.status_code != 500 and 500 not in answers,
        f"DELETE {deleted.status_code}, PATCH {answers}",
    )
    stop2, answers2 = threading.Event(), []
    in_background(
        {
            "method": "PATCH",
            "url": f"{service.url}/v1/uploads/{session['id']}",
            "headers": {**auth, "Upload-Offset": str(half)},
            "content": stalled(data[half : half + 500], stop2),
        },
        answers2,
    )
    in_background(
        {
            "method": "POST",
            "url": f"{service.url}/v1/uploads",
            "params": {"filename": "z.mp4"},
            "headers": auth,
            "content": stalled(data[:500], stop2),
        },
        answers2,
    )
    time.sleep(1)
    service.kill()
    time.sleep(11)  # two leases of a 2 s idle limit: a lease run out, and older than one
    service.start()
    offset = anna.get(f"/v1/uploads/{session['id']}").json()["received"]
    rest = anna.patch(
        f"/v1/uploads/{session['id']}",
        content=data[offset:],
        headers={"Upload-Offset": str(offset)},
    )
    probe("failure", "6 PATCH after SIGKILL mid-chunk", rest.status_code == 200, rest.status_code)
    stop2.set()
    left = wait(lambda: not _partial_whole(service), 15)
    probe(
        "concern",
        "whole upload killed mid-way leaves nothing",
        bool(left),
        "cleaned" if left else "left",
    )


def _partial_whole(service: Service) -> list[str]:
    from veil.service.settings import ServiceSettings
    from veil.service.store import Store

    store = Store(ServiceSettings(data_dir=service.data))
    try:
        return [
            u.id for u in store.uploads.created_before(2e9) if u.size is None and not u.complete
        ]
    finally:
        store.close()
