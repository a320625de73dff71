"""Chain of custody: each job's audit trail, the signed report, ``veil verify`` offline."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from conftest import run_veil
from service.conftest import Api, Clip, ThreadWorker
from veil.service.access import Role
from veil.service.custody import sign
from veil.service.policy import Policy
from veil.service.store.audit import chain_ok


def actions(api: Api, job_id: str, client: httpx.Client | None = None) -> list[tuple[str, str]]:
    trail = (client or api.client).get(f"/v1/jobs/{job_id}/audit").json()
    return [(e["who"], e["action"]) for e in trail["events"]]


def test_the_audit_trail_says_who_did_what(api: Api, worker: ThreadWorker, clip: Clip):
    job = api.upload_job(clip.path)
    api.wait_state(job["id"], "finished", "error")
    api.client.get(f"/v1/jobs/{job['id']}/outputs/walk_redacted.mp4")
    trail = api.client.get(f"/v1/jobs/{job['id']}/audit").json()
    assert trail["chain_ok"] and trail["job"] == job["id"]
    steps = [(e["who"], e["action"]) for e in trail["events"]]
    assert steps[0] == ("tester", "submitted")
    assert steps[1] == ("thread-worker", "finished")
    assert steps[2] == ("tester", "downloaded")
    finished = trail["events"][1]["details"]
    assert set(finished["outputs"]) == {"walk_redacted.mp4", "walk_annotations.json"}
    api.client.delete(f"/v1/jobs/{job['id']}")
    kept = api.store.audit.of_job(job["id"])  # the trail outlives the job
    assert kept[-1].action == "deleted" and chain_ok(kept)


def test_a_changed_entry_breaks_the_chain(api: Api, clip: Clip):
    job = api.upload_job(clip.path)
    api.client.post(f"/v1/jobs/{job['id']}/cancel")
    assert chain_ok(api.store.audit.of_job(job["id"]))
    with api.store.engine.begin() as c:
        c.exec_driver_sql("update audit_events set who = 'someone else' where seq = 1")
    assert not chain_ok(api.store.audit.of_job(job["id"]))
    assert api.client.get(f"/v1/jobs/{job['id']}/audit").json()["chain_ok"] is False


def test_the_report_is_signed_and_veil_verify_checks_it_offline(
    api: Api, worker: ThreadWorker, clip: Clip, tmp_path: Path
):
    job = api.upload_job(clip.path)
    done = api.wait_state(job["id"], "finished", "error")
    folder = tmp_path / "published"
    folder.mkdir()
    for name in done["outputs"]:
        folder.joinpath(name).write_bytes(
            api.client.get(f"/v1/jobs/{job['id']}/outputs/{name}").content
        )
    report = json.loads((folder / "walk_report.json").read_text())
    assert report["input"]["sha256"] and report["veil_version"]
    assert report["models"] and all(len(h) == 64 for h in report["models"].values())
    assert set(report["outputs"]) == {"walk_redacted.mp4", "walk_annotations.json"}
    assert api.client.get(f"/v1/jobs/{job['id']}/report").json() == report
    key = api.client.get("/v1/custody/key").json()["key"]
    (tmp_path / "custody.pub").write_text(key)
    pub = tmp_path / "custody.pub"

    ok = run_veil("verify", folder / "walk_report.json", "--key", pub, "--input", clip.path)
    assert ok.returncode == 0, ok.stderr
    # without the trusted key a re-signed document would check against itself: refused
    unkeyed = run_veil("verify", folder / "walk_report.json")
    assert unkeyed.returncode == 2 and "--key" in unkeyed.stderr
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "walk_report.json").write_text(json.dumps(report))
    nothing = run_veil("verify", alone / "walk_report.json", "--key", pub)
    assert nothing.returncode == 2 and "nothing was checked" in nothing.stderr
    assert "walk_redacted.mp4: SHA-256 matches" in ok.stdout
    assert "(input): SHA-256 matches" in ok.stdout

    video = folder / "walk_redacted.mp4"
    video.write_bytes(video.read_bytes()[:-1] + b"\x00")
    changed = run_veil("verify", folder / "walk_report.json", "--key", pub)
    assert changed.returncode == 2 and "walk_redacted.mp4" in changed.stderr

    forged = dict(report, faces=0)
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert run_veil("verify", tmp_path / "forged.json").returncode == 2
    other_key = "A" * 43 + "="
    assert run_veil("verify", folder / "walk_report.json", "--key", other_key).returncode == 2

    trail = api.client.get(f"/v1/jobs/{job['id']}/audit").json()
    (tmp_path / "audit.json").write_text(json.dumps(trail))
    audited = run_veil("verify", tmp_path / "audit.json", "--key", pub)
    assert audited.returncode == 0 and "entries, chained" in audited.stdout
    # the last entry cut off (and the export signed again): the earlier export tells
    cut = dict(trail, events=trail["events"][:-1], head=trail["events"][-2]["hash"])
    (tmp_path / "cut.json").write_text(json.dumps(sign(api.settings, cut)))
    assert run_veil("verify", tmp_path / "cut.json", "--key", pub).returncode == 0
    previous = ("--previous", tmp_path / "audit.json")
    assert run_veil("verify", tmp_path / "cut.json", "--key", pub, *previous).returncode == 2
    assert run_veil("verify", tmp_path / "audit.json", "--key", pub, *previous).returncode == 0
    trail["events"][0]["who"] = "someone else"
    (tmp_path / "audit.json").write_text(json.dumps(trail))
    assert run_veil("verify", tmp_path / "audit.json", "--key", pub).returncode == 2


def test_reviewers_review_and_redact_within_the_policy_and_it_is_audited(
    api: Api, worker: ThreadWorker, clip: Clip
):
    alice = api.store.tokens.create("alice", Role.OPERATOR, "records")
    carol = api.store.tokens.create("carol", Role.REVIEWER, "records")
    with (
        httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {alice}"}) as a,
        httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {carol}"}) as c,
    ):
        analysed = a.post(
            "/v1/jobs/upload",
            params={"filename": "walk.mp4", "mode": "analyze"},
            content=clip.path.read_bytes(),
        ).json()
        assert api.wait_state(analysed["id"], "finished", "error")["state"] == "finished"
        review = f"/v1/review/jobs/{analysed['id']}"
        assert c.get(review).status_code == 200
        chosen = c.post(f"{review}/edits", json={"edit": {"op": "select", "ids": [1]}})
        assert chosen.status_code == 200
        api.store.policy.put(Policy(require_review=True), "test")
        unreviewed = c.post(f"{review}/redact", json={"blur": "black"})
        assert unreviewed.status_code == 409 and "reviewed first" in unreviewed.json()["detail"]
        api.store.policy.put(Policy(min_blur="high"), "test")
        weak = c.post(f"{review}/redact", json={"blur": "low"})
        assert weak.status_code == 422 and "high" in weak.json()["detail"]
        redaction = c.post(f"{review}/redact", json={"blur": "black"})
        assert redaction.status_code == 202, redaction.text
        made = redaction.json()
        assert made["token_name"] == "carol" and made["team"] == "records"
        done = api.wait_state(made["id"], "finished", "error")
        assert done["state"] == "finished", done["error"]
        assert a.get(f"/v1/jobs/{made['id']}").status_code == 200  # the team sees it
        steps = actions(api, analysed["id"], c)
    assert ("carol", "review.select") in steps and ("carol", "review.redact") in steps
