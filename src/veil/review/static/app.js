// veil review: upload, analyze, review faces, fix boxes, redact. No build step, no CDN.

import { ApiError, get, post, call, token, uploadFile } from "./api.js";
import { Player } from "./player.js";

const $ = (id) => document.getElementById(id);
const views = ["login-view", "start-view", "wait-view", "review-view"];
let generation = 0; // bumped on every navigation: stale polls stop

const ui = {
  doc: null,
  jobId: null,
  active: null,
  sort: "first",
  edits: Promise.resolve(),
  previewUrl: null,
};

// -- small helpers ---------------------------------------------------------------------

function show(view) {
  for (const v of views) $(v).hidden = v !== view;
  const signedIn = view !== "login-view";
  $("logout").hidden = !signedIn;
  $("who").hidden = !signedIn;
  $("nav-home").hidden = !signedIn || view === "start-view";
}

let toastTimer = 0;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

function fail(error, where) {
  const text = error instanceof ApiError ? error.message : String(error);
  if (error instanceof ApiError && error.status === 401) {
    token.clear();
    route();
    return;
  }
  if (where) $(where).textContent = text;
  else toast(text);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (s) => `${s.toFixed(2)} s`;
const faceName = (id) => `Face ${id}`;

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString();
}

/** Poll a job until it ends; `progress(job)` on each answer. Stops if the page moved on. */
async function follow(jobId, progress) {
  const mine = generation;
  for (;;) {
    const job = await get(`/v1/jobs/${jobId}`);
    if (mine !== generation) return null;
    progress(job);
    if (["finished", "error", "canceled"].includes(job.state)) return job;
    await sleep(400);
  }
}

// -- routing ---------------------------------------------------------------------------

async function route() {
  generation += 1;
  closePreview();
  if (!token.get()) {
    show("login-view");
    $("token").focus();
    return;
  }
  get("/v1/review/me")
    .then(({ name }) => {
      $("who").textContent = `Signed in as ${name}`;
    })
    .catch(() => {});
  const match = location.hash.match(/^#\/jobs\/([0-9a-f]+)/);
  if (match) await openJob(match[1]);
  else await startView();
}

window.addEventListener("hashchange", route);

// -- sign in ---------------------------------------------------------------------------

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  $("login-error").textContent = "";
  try {
    await get("/v1/jobs?limit=1", { auth: value });
  } catch (error) {
    $("login-error").textContent =
      error.status === 401 ? "This token is not valid (or was revoked)." : error.message;
    return;
  }
  token.set(value);
  $("token").value = "";
  route();
});

$("logout").addEventListener("click", () => {
  token.clear();
  location.hash = "";
  route();
});
$("nav-home").addEventListener("click", () => {
  location.hash = "#/";
});

// -- start: upload, or open a job --------------------------------------------------------

async function startView() {
  show("start-view");
  $("upload-status").hidden = true;
  $("upload-error").textContent = "";
  try {
    const { jobs } = await get("/v1/jobs?limit=100");
    renderJobs(jobs);
  } catch (error) {
    fail(error, "upload-error");
  }
}

function renderJobs(jobs) {
  const body = $("jobs").querySelector("tbody");
  body.replaceChildren();
  $("jobs-empty").hidden = jobs.length > 0;
  for (const job of jobs) {
    const tr = document.createElement("tr");
    const cells = [
      job.source_name,
      job.mode,
      `${job.state}${job.state === "processing" ? ` ${job.progress}%` : ""}`,
      when(job.created_at),
      job.token_name || "",
    ];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 2) td.className = `state-${job.state}`;
      tr.append(td);
    });
    const td = document.createElement("td");
    if (job.mode === "analyze" || job.mode === "combined") {
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = job.state === "finished" ? "Review" : "Follow";
      open.setAttribute("aria-label", `${open.textContent} ${job.source_name} (${job.mode}, ${when(job.created_at)})`);
      open.addEventListener("click", () => {
        location.hash = `#/jobs/${job.id}`;
      });
      td.append(open);
    }
    tr.append(td);
    body.append(tr);
  }
}

$("upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  $("upload-error").textContent = "";
  $("upload-status").hidden = false;
  $("upload-button").disabled = true;
  const bar = $("upload-progress");
  const text = $("upload-text");
  bar.value = 0;
  try {
    const upload = await uploadFile(file, (sent, total) => {
      const pct = total ? Math.round((100 * sent) / total) : 0;
      bar.value = pct;
      text.textContent = `${pct}% of ${(total / 1e6).toFixed(1)} MB`;
    });
    bar.value = 100;
    text.textContent = "Uploaded; starting the analysis";
    const job = await post("/v1/jobs", { input: { upload_id: upload.id }, mode: "analyze" });
    location.hash = `#/jobs/${job.id}`;
  } catch (error) {
    fail(error, "upload-error");
  } finally {
    $("upload-button").disabled = false;
  }
});

// -- a job: wait for its analysis, then review it ------------------------------------------

async function openJob(jobId) {
  let job;
  try {
    job = await get(`/v1/jobs/${jobId}`);
  } catch (error) {
    await startView();
    fail(error, "upload-error");
    return;
  }
  if (job.mode === "redact") {
    await startView();
    $("upload-error").textContent = "That is a redact job: open the analysis it came from.";
    return;
  }
  if (job.state !== "finished") {
    show("wait-view");
    $("wait-name").textContent = `${job.source_name} (job ${job.id.slice(0, 8)})`;
    $("analyze-error").textContent = "";
    const done = await follow(jobId, (j) => {
      $("analyze-progress").value = j.progress;
      $("analyze-text").textContent =
        j.state === "queued" ? "Waiting for a worker" :
        `${j.state}: ${j.progress}%` + (j.frames_total ? ` (${j.frames_done} of ${j.frames_total} frames)` : "");
    });
    if (!done) return;
    if (done.state !== "finished") {
      $("analyze-error").textContent = `The analysis ended in ${done.state}: ${done.error || ""}`;
      return;
    }
  }
  await openReview(jobId);
}

async function openReview(jobId) {
  let doc;
  try {
    doc = await get(`/v1/review/jobs/${jobId}`);
  } catch (error) {
    await startView();
    fail(error, "upload-error");
    return;
  }
  ui.jobId = jobId;
  ui.doc = null;
  ui.active = null;
  show("review-view");
  player.doc = null;
  player.video.removeAttribute("src");
  $("play").disabled = false;
  player.load(doc, doc.links.source);
  setDoc(doc);
  $("result").hidden = true;
  $("redact-status").hidden = true;
  $("redact-error").textContent = "";
  if (!doc.links.source) toast("The source is not kept on this server: boxes are shown without the picture.");
  const last = doc.redactions[doc.redactions.length - 1];
  if (last) resumeRedaction(last.job);
  $("overlay").focus();
}

// -- the review document ---------------------------------------------------------------------

function setDoc(doc) {
  ui.doc = doc;
  player.update(doc);
  const ids = new Set(doc.faces.map((f) => f.id));
  if (ui.active !== null && !ids.has(ui.active)) setActive(null);
  $("scrub").max = String(Math.max(0, doc.media.starts.length - 1));
  $("blur").replaceChildren(
    ...doc.blurs.map((b) => new Option(b, b, false, b === doc.blur)),
  );
  $("blur").value = doc.blur;
  renderGallery();
  renderMergeChoices();
  renderBoxEditor();
  const hidden = doc.selected.length;
  $("faces-summary").textContent =
    `${doc.faces.length} faces, ${hidden} to blur` + (doc.updated_by ? `; last edit by ${doc.updated_by}` : "");
  $("choice-summary").textContent = hidden
    ? `Faces ${doc.selected.join(", ")} will be hidden with "${doc.blur}"; the others stay visible.`
    : "No face is chosen: the video will be copied with nothing hidden.";
  $("download-ids").href = doc.links.ids;
  $("download-ids").download = `${stem()}_ids.txt`;
  $("download-annotations").href = doc.links.annotations;
  $("download-annotations").download = `${stem()}_annotations.json`;
  renderHistory();
  $("review-title").textContent =
    `${doc.job.source_name}: ${doc.media.starts.length} frames, ${doc.faces.length} faces`;
}

const stem = () => ui.doc.job.source_name.replace(/\.[^.]+$/, "");

/** Send one edit; edits go one after another, in the order they were made. */
function edit(change) {
  const jobId = ui.jobId;
  ui.edits = ui.edits
    .then(async () => {
      const doc = await post(`/v1/review/jobs/${jobId}/edits`, { edit: change });
      if (jobId === ui.jobId) setDoc(doc);
      return doc;
    })
    .catch((error) => {
      fail(error);
      if (ui.doc) player.update(ui.doc);
    });
  return ui.edits;
}

function setActive(id) {
  ui.active = id;
  player.setActive(id);
  for (const li of $("gallery").children) li.classList.toggle("active", Number(li.dataset.id) === id);
  renderBoxEditor();
}

// -- gallery ---------------------------------------------------------------------------------

function sortedFaces() {
  const faces = [...ui.doc.faces];
  const by = {
    first: (a, b) => a.first - b.first || a.id - b.id,
    size: (a, b) => b.size - a.size || a.id - b.id,
    id: (a, b) => a.id - b.id,
  }[ui.sort];
  return faces.sort(by);
}

function renderGallery() {
  const list = $("gallery");
  const focused = document.activeElement?.closest?.(".face")?.dataset.id;
  const focusClass = document.activeElement?.className;
  list.replaceChildren();
  for (const face of sortedFaces()) {
    const li = document.createElement("li");
    li.className = "face";
    li.dataset.id = String(face.id);
    li.classList.toggle("hidden-face", face.selected);
    li.classList.toggle("active", face.id === ui.active);

    const seek = document.createElement("button");
    seek.type = "button";
    seek.className = "seek";
    seek.setAttribute(
      "aria-label",
      `Go to ${faceName(face.id)}, seen from ${seconds(face.start)} to ${seconds(face.end)}`,
    );
    const img = document.createElement("img");
    img.src = face.thumb;
    img.alt = "";
    img.loading = "lazy";
    seek.append(img);
    seek.addEventListener("click", () => {
      setActive(face.id);
      player.seek(face.first);
    });

    const name = document.createElement("div");
    name.className = "name";
    name.textContent = faceName(face.id);
    if (face.manual) name.append(badge("drawn"));
    else if (face.edited) name.append(badge("edited"));
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${seconds(face.start)}–${seconds(face.end)} · ${face.frames} frame${face.frames === 1 ? "" : "s"}`;

    const label = document.createElement("label");
    label.className = "choose";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "hide";
    box.checked = face.selected;
    box.setAttribute("aria-label", `Blur ${faceName(face.id)}`);
    box.addEventListener("change", () => {
      const chosen = new Set(ui.doc.selected);
      if (box.checked) chosen.add(face.id);
      else chosen.delete(face.id);
      edit({ op: "select", ids: [...chosen] });
    });
    label.append(box, " Blur");

    const info = document.createElement("div");
    info.append(name, meta, label);
    li.append(seek, info);
    list.append(li);
  }
  if (focused) {
    const li = list.querySelector(`[data-id="${focused}"]`);
    const target = focusClass === "hide" ? li?.querySelector(".hide") : li?.querySelector(".seek");
    target?.focus();
  }
}

function badge(text) {
  const span = document.createElement("span");
  span.className = "badge";
  span.textContent = text;
  return span;
}

function renderMergeChoices() {
  const ids = ui.doc.faces.map((f) => f.id);
  for (const [sel, fallback] of [["merge-keep", 0], ["merge-drop", 1]]) {
    const el = $(sel);
    const before = Number(el.value);
    el.replaceChildren(...ids.map((id) => new Option(faceName(id), String(id))));
    el.value = ids.includes(before) ? String(before) : String(ids[Math.min(fallback, ids.length - 1)] ?? "");
  }
  $("merge").disabled = ids.length < 2;
}

$("sort").addEventListener("change", () => {
  ui.sort = $("sort").value;
  renderGallery();
});
$("select-all").addEventListener("click", () => edit({ op: "select", ids: ui.doc.faces.map((f) => f.id) }));
$("select-none").addEventListener("click", () => edit({ op: "select", ids: [] }));
$("select-invert").addEventListener("click", () => {
  const chosen = new Set(ui.doc.selected);
  edit({ op: "select", ids: ui.doc.faces.map((f) => f.id).filter((id) => !chosen.has(id)) });
});
$("merge").addEventListener("click", () => {
  const keep = Number($("merge-keep").value);
  const drop = Number($("merge-drop").value);
  if (keep === drop) return toast("Choose two different faces.");
  edit({ op: "merge", keep, drop }).then(() => {
    setActive(keep);
    toast(`${faceName(drop)} merged into ${faceName(keep)}`);
  });
});
$("reset").addEventListener("click", () => {
  if (confirm("Undo every edit of this review and go back to the analysis?")) edit({ op: "reset" });
});

// -- the player and its tools ----------------------------------------------------------------

const player = new Player({
  stage: $("stage"),
  video: $("video"),
  still: $("still"),
  canvas: $("overlay"),
  onFrame: (frame) => {
    $("scrub").value = String(frame);
    const t = ui.doc ? player.timeOf(frame) : 0;
    $("frame-label").textContent = ui.doc
      ? `Frame ${frame + 1} / ${ui.doc.media.starts.length} · ${seconds(t)}`
      : "";
    $("play").textContent = player.playing ? "❚❚" : "▶";
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    if (!player.playing) closePreview();
    renderBoxEditor();
  },
  onDraw: (frame, box) => addBox(frame, box),
  onBoxEdit: (id, frame, box) => edit({ op: "box", id, frame, box: [box.x, box.y, box.w, box.h] }),
  onActivate: (id) => setActive(id),
  onStills: () => {
    $("play").disabled = true;
    toast("This browser cannot play the video's format: each frame is shown as veil decodes it.");
  },
});

function addBox(frame, box) {
  const before = new Set(ui.doc.faces.map((f) => f.id));
  setDrawing(false);
  edit({ op: "add", frame, box: [box.x, box.y, box.w, box.h] }).then((doc) => {
    if (!doc) return;
    const added = doc.faces.find((f) => !before.has(f.id));
    if (added) {
      setActive(added.id);
      toast(`${faceName(added.id)} drawn on frame ${frame + 1}`);
    }
  });
}

function setDrawing(on) {
  player.setDrawing(on);
  $("draw").setAttribute("aria-pressed", String(on));
}

$("draw").addEventListener("click", () => setDrawing(!player.drawing));
$("add-box").addEventListener("click", () => {
  const { width, height } = ui.doc.media;
  const side = 0.2 * Math.min(width, height);
  const w = side / width;
  const h = side / height;
  addBox(player.current, { x: 0.5 - w / 2, y: 0.5 - h / 2, w, h });
});

$("first-frame").addEventListener("click", () => player.seek(0));
$("last-frame").addEventListener("click", () => player.seek(player.frames - 1));
$("prev-frame").addEventListener("click", () => player.step(-1));
$("next-frame").addEventListener("click", () => player.step(1));
$("play").addEventListener("click", () => player.togglePlay());
$("scrub").addEventListener("input", () => player.seek(Number($("scrub").value)));

document.addEventListener("keydown", (e) => {
  if ($("review-view").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
  const target = e.target;
  const tag = target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
  const onButton = tag === "BUTTON" || tag === "A";
  const jump = e.shiftKey ? 10 : 1;
  let handled = true;
  if (e.key === "ArrowRight" || e.key === ".") player.step(jump);
  else if (e.key === "ArrowLeft" || e.key === ",") player.step(-jump);
  else if (e.key === "Home") player.seek(0);
  else if (e.key === "End") player.seek(player.frames - 1);
  else if (e.key === "k" || (e.key === " " && !onButton)) player.togglePlay();
  else if (e.key === "Escape") {
    setDrawing(false);
    closePreview();
  } else handled = false;
  if (handled) e.preventDefault();
});

function activeBox() {
  if (ui.active === null) return null;
  return player.boxes().find((b) => b.id === ui.active) || null;
}

function renderBoxEditor() {
  if (!ui.doc) return;
  const { width, height } = ui.doc.media;
  const id = ui.active;
  const box = activeBox();
  const enabled = id !== null;
  for (const el of ["box-x", "box-y", "box-w", "box-h", "apply-box", "extend", "split", "delete-face"]) {
    $(el).disabled = !enabled;
  }
  $("delete-box").disabled = !box;
  const frame = player.current + 1;
  if (!enabled) {
    $("active-label").textContent = "No face chosen: click a box or a face.";
    return;
  }
  const track = ui.doc.manual.find((t) => t.id === id);
  const face = ui.doc.faces.find((f) => f.id === id);
  let text = `${faceName(id)}${track ? ` (drawn, frames ${track.start + 1}–${track.end + 1}, keyframes ${track.keys.map((k) => k + 1).join(", ")})` : ""}: `;
  text += box ? `box on frame ${frame}.` : `no box on frame ${frame}${face ? ` (seen on frames ${face.first + 1}–${face.last + 1})` : ""}.`;
  $("active-label").textContent = text;
  const typing = document.activeElement;
  if (typing?.tagName === "INPUT" && typing.closest(".fields")) return; // keep what is typed
  const shown = box || nearestBox(id);
  if (shown) {
    $("box-x").value = Math.round(shown.x * width);
    $("box-y").value = Math.round(shown.y * height);
    $("box-w").value = Math.round(shown.w * width);
    $("box-h").value = Math.round(shown.h * height);
  }
}

function nearestBox(id) {
  let best = null;
  ui.doc.frames.forEach((faces, i) => {
    for (const f of faces) {
      if (f[0] === id && (best === null || Math.abs(i - player.current) < Math.abs(best.i - player.current))) {
        best = { i, x: f[1], y: f[2], w: f[3], h: f[4] };
      }
    }
  });
  return best;
}

$("apply-box").addEventListener("click", () => {
  const { width, height } = ui.doc.media;
  const v = (id) => Number($(id).value);
  if (!(v("box-w") > 0 && v("box-h") > 0)) return toast("A box needs a width and a height.");
  edit({
    op: "box",
    id: ui.active,
    frame: player.current,
    box: [v("box-x") / width, v("box-y") / height, v("box-w") / width, v("box-h") / height],
  }).then(() => toast(`Box of ${faceName(ui.active)} set on frame ${player.current + 1}`));
});
$("extend").addEventListener("click", () => {
  edit({ op: "extend", id: ui.active, frame: player.current }).then(() =>
    toast(`${faceName(ui.active)} extended to frame ${player.current + 1}`),
  );
});
$("split").addEventListener("click", () => {
  const before = new Set(ui.doc.faces.map((f) => f.id));
  const id = ui.active;
  edit({ op: "split", id, frame: player.current }).then((doc) => {
    const added = doc?.faces.find((f) => !before.has(f.id));
    if (added) toast(`${faceName(id)} split: from frame ${player.current + 1} on it is ${faceName(added.id)}`);
  });
});
$("delete-box").addEventListener("click", () => edit({ op: "delete", id: ui.active, frame: player.current }));
$("delete-face").addEventListener("click", () => {
  if (confirm(`Delete every box of ${faceName(ui.active)}?`)) edit({ op: "delete", id: ui.active });
});

// -- preview -----------------------------------------------------------------------------------

$("blur").addEventListener("change", () => {
  edit({ op: "blur", blur: $("blur").value }).then(() => {
    if (!$("preview").hidden) previewFrame();
  });
});

async function previewFrame() {
  const frame = player.current;
  const blur = $("blur").value;
  $("preview-button").disabled = true;
  try {
    await ui.edits;
    const response = await call(
      "GET",
      `/v1/review/jobs/${ui.jobId}/preview?frame=${frame}&blur=${encodeURIComponent(blur)}`,
      undefined,
      { raw: true },
    );
    const blob = await response.blob();
    closePreview();
    ui.previewUrl = URL.createObjectURL(blob);
    const img = $("preview-img");
    img.src = ui.previewUrl;
    img.alt = `Frame ${frame + 1} as it will be redacted, blur ${blur}`;
    $("preview-caption").textContent = `Preview: frame ${frame + 1}, blur "${blur}" (rendered by veil)`;
    await img.decode().catch(() => {});
    $("preview").hidden = false;
    $("preview-close").hidden = false;
    $("stage").dataset.preview = String(frame);
  } catch (error) {
    fail(error);
  } finally {
    $("preview-button").disabled = false;
  }
}

function closePreview() {
  if (ui.previewUrl) URL.revokeObjectURL(ui.previewUrl);
  ui.previewUrl = null;
  $("preview").hidden = true;
  $("preview-close").hidden = true;
  delete $("stage").dataset.preview;
}

$("preview-button").addEventListener("click", previewFrame);
$("preview-close").addEventListener("click", () => {
  closePreview();
  $("preview-button").focus();
});

// -- redaction -----------------------------------------------------------------------------------

$("redact").addEventListener("click", async () => {
  $("redact-error").textContent = "";
  $("redact").disabled = true;
  try {
    await ui.edits;
    const job = await post(`/v1/review/jobs/${ui.jobId}/redact`, { blur: $("blur").value });
    const doc = await get(`/v1/review/jobs/${ui.jobId}`);
    setDoc(doc);
    await resumeRedaction(job.id);
  } catch (error) {
    fail(error, "redact-error");
  } finally {
    $("redact").disabled = false;
  }
});

async function resumeRedaction(jobId) {
  $("result").hidden = true;
  $("redact-status").hidden = false;
  const bar = $("redact-progress");
  const text = $("redact-text");
  let done;
  try {
    done = await follow(jobId, (j) => {
      bar.value = j.progress;
      text.textContent = j.state === "queued" ? "Waiting for a worker" : `${j.state}: ${j.progress}%`;
    });
  } catch (error) {
    fail(error, "redact-error");
    return;
  }
  if (!done) return;
  if (done.state !== "finished") {
    $("redact-error").textContent = `The redaction ended in ${done.state}: ${done.error || ""}`;
    return;
  }
  text.textContent = "Finished";
  await showResult(jobId);
}

async function showResult(jobId) {
  const { outputs } = await get(`/v1/review/jobs/${jobId}/links`);
  const names = Object.keys(outputs);
  const video = names.find((n) => /_redacted\.[^.]+$/.test(n));
  const report = names.find((n) => n.endsWith("_report.json"));
  const result = $("result");
  const player2 = $("result-video");
  if (video) {
    if (!player2.src.includes(`/${jobId}/`)) player2.src = outputs[video];
    $("download-result").href = `${outputs[video]}&download=1`;
    $("download-result").download = video;
    $("download-result").hidden = false;
  }
  if (report) {
    $("download-report").href = `${outputs[report]}&download=1`;
    $("download-report").download = report;
  }
  try {
    const r = await get(`/v1/jobs/${jobId}/report`);
    const ids = r.face_ids.length ? `faces ${r.face_ids.join(", ")}` : "no face";
    $("result-report").textContent =
      `Redacted by ${r.who}: ${ids} hidden with "${r.settings.blur || "med"}", ${r.frames} frames, job ${r.job.slice(0, 8)}.`;
  } catch {
    $("result-report").textContent = "";
  }
  result.hidden = false;
  result.dataset.job = jobId;
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  for (const r of [...ui.doc.redactions].reverse()) {
    const li = document.createElement("li");
    const ids = r.ids.length ? `faces ${r.ids.join(", ")}` : "no face";
    li.append(`${new Date(r.at * 1000).toLocaleString()}: ${ids}, "${r.blur}", by ${r.by} `);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = "Show";
    button.setAttribute("aria-label", `Show the redaction of ${new Date(r.at * 1000).toLocaleString()}`);
    button.addEventListener("click", () => resumeRedaction(r.job));
    li.append(button);
    list.append(li);
  }
  if (!ui.doc.redactions.length) {
    const li = document.createElement("li");
    li.textContent = "None yet.";
    list.append(li);
  }
}

route();
