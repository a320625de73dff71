// veil review: upload, analyze, review faces, fix boxes, redact. No build step, no CDN.

import { ApiError, get, post, call, token, uploadFile } from "./api.js";
import { Player } from "./player.js";
import { Timeline, pictures } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const views = ["login-view", "start-view", "wait-view", "review-view"];
let generation = 0; // bumped on every navigation: stale polls stop

const ui = {
  doc: null,
  jobId: null,
  active: null, // the face chosen (its box is edited)
  stack: [], // the faces under the pointer at the last click, when boxes overlap
  candidate: null, // the face-like region chosen
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
    clearReview();
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
  closeDialog();
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

$("logout").addEventListener("click", async () => {
  // the links signed for this token (video, pictures, downloads) die with the session
  await post("/v1/review/signout").catch(() => {});
  token.clear();
  clearReview();
  $("jobs").querySelector("tbody").replaceChildren();
  $("who").textContent = "";
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

// Signed links live for minutes (and die with the token): an open review fetches its
// document again now and then, which brings fresh links (and edits made in another tab).
const REFRESH_MS = 8 * 60 * 1000;
let refreshTimer = 0;

function keepFresh(jobId) {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(async () => {
    if (ui.jobId !== jobId || $("dialog").open) return;
    await ui.edits;
    try {
      const doc = await get(`/v1/review/jobs/${jobId}`);
      if (ui.jobId === jobId && doc.revision >= ui.doc.revision) setDoc(doc);
    } catch (error) {
      fail(error);
    }
  }, REFRESH_MS);
}

/** Forget the review on screen: nothing of one video (boxes, fields, links) reaches the next. */
function clearReview() {
  clearInterval(refreshTimer);
  ui.doc = null;
  ui.jobId = null;
  ui.active = null;
  ui.stack = [];
  ui.candidate = null;
  ui.edits = Promise.resolve();
  closePreview();
  closeDialog();
  player.unload();
  setDrawing(false);
  for (const id of ["box-x", "box-y", "box-w", "box-h"]) $(id).value = "";
  $("active-label").textContent = "No face chosen: click a box or a face.";
  $("candidate-editor").hidden = true;
  for (const id of ["rows", "low-rows", "review-lane", "suggestions", "candidates", "covered",
    "history", "redactions", "redact-warnings"]) $(id).replaceChildren();
  for (const id of ["review-title", "faces-summary", "choice-summary", "frame-label", "undo-label",
    "redact-error", "redact-text", "result-report"]) $(id).textContent = "";
  const result = $("result-video");
  result.removeAttribute("src");
  result.load();
  $("result").hidden = true;
  delete $("result").dataset.job;
  $("redact-status").hidden = true;
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
  clearReview();
  ui.jobId = jobId;
  show("review-view");
  $("play").disabled = false;
  player.load(doc, doc.links.source);
  setDoc(doc);
  keepFresh(jobId);
  if (!doc.links.source) toast("The source is not kept on this server: boxes are shown without the picture.");
  const last = doc.redactions[doc.redactions.length - 1];
  if (last) resumeRedaction(last.job);
  $("overlay").focus();
}

// -- the review document ---------------------------------------------------------------------

const frameCount = () => ui.doc.media.starts.length;
const faceOf = (id) => ui.doc.faces.find((f) => f.id === id);
const range = (a, b) => (a === b ? `frame ${a + 1}` : `frames ${a + 1}–${b + 1}`);

function setDoc(doc) {
  ui.doc = doc;
  $("review-view").dataset.revision = String(doc.revision);
  player.update(doc);
  const ids = new Set(doc.faces.map((f) => f.id));
  if (ui.active !== null && !ids.has(ui.active)) setActive(null);
  if (ui.candidate !== null && !doc.candidates.some((c) => c.id === ui.candidate)) setCandidate(null);
  $("scrub").max = String(Math.max(0, frameCount() - 1));
  $("blur").replaceChildren(...doc.blurs.map((b) => {
    const refused = doc.policy.refused_blurs.includes(b);
    const option = new Option(refused ? `${b} (weaker than the policy's ${doc.policy.min_blur})` : b, b, false, b === doc.blur);
    option.disabled = refused && b !== doc.blur;
    return option;
  }));
  $("blur").value = doc.blur;
  renderTimeline();
  renderBoxEditor();
  renderTodo();
  renderUndo();
  renderRedact();
  renderHistory();
  const hidden = doc.selected.length;
  const low = doc.faces.filter((f) => f.low).length;
  $("faces-summary").textContent =
    `${doc.faces.length} faces, ${hidden} to blur` + (low ? ` (${low} of low confidence)` : "") +
    (doc.updated_by ? `; last edit by ${doc.updated_by}` : "");
  $("review-title").textContent = `${doc.job.source_name}: ${frameCount()} frames, ${doc.faces.length} faces`;
  $("review-title").title = doc.job.source_name;
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

function setActive(id, stack = null) {
  ui.active = id;
  if (stack) ui.stack = stack;
  else if (!ui.stack.includes(id)) ui.stack = [];
  if (id !== null) setCandidate(null);
  player.setActive(id);
  for (const row of document.querySelectorAll(".tl-row[data-id]")) {
    row.classList.toggle("active", Number(row.dataset.id) === id);
  }
  renderBoxEditor();
}

function setCandidate(id) {
  ui.candidate = id;
  if (id !== null) {
    ui.active = null;
    player.setActive(null);
  }
  player.setCandidate(id);
  renderBoxEditor();
}

// -- the timeline ----------------------------------------------------------------------------

function sortedFaces() {
  const faces = [...ui.doc.faces];
  const by = {
    first: (a, b) => a.first - b.first || a.id - b.id,
    size: (a, b) => b.size - a.size || a.id - b.id,
    id: (a, b) => a.id - b.id,
  }[ui.sort];
  return faces.sort(by);
}

function badge(text, kind = "") {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

function choose(ids) {
  return edit({ op: "select", ids: [...ids] });
}

function rowHead(face) {
  const head = document.createElement("div");
  head.className = "tl-head";
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
  if (face.low) name.append(badge("low confidence", "low"));
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
    choose(chosen);
  });
  label.append(box, " Blur");
  const only = document.createElement("button");
  only.type = "button";
  only.className = "only link";
  only.textContent = "Only visible";
  only.setAttribute("aria-label", `Leave only ${faceName(face.id)} visible (blur every other face)`);
  only.addEventListener("click", () => leaveOnly(face.id));

  const info = document.createElement("div");
  info.className = "info";
  info.append(name, meta);
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(label, only);
  head.append(seek, info, actions);
  return head;
}

function leaveOnly(id) {
  setActive(id);
  return choose(ui.doc.faces.map((f) => f.id).filter((other) => other !== id)).then(() =>
    toast(`${faceName(id)} stays visible; every other face is blurred`),
  );
}

function renderTimeline() {
  const focused = document.activeElement;
  const row = focused?.closest?.(".tl-row[data-id]")?.dataset.id;
  const kind = focused?.classList?.contains("hide") ? ".hide" : focused?.classList?.contains("only") ? ".only" : ".seek";
  timeline.render(ui.doc, sortedFaces());
  for (const r of document.querySelectorAll(".tl-row[data-id]")) {
    r.classList.toggle("active", Number(r.dataset.id) === ui.active);
  }
  if (row) document.querySelector(`.tl-row[data-id="${row}"] ${kind}`)?.focus();
  const unreviewed = ui.doc.unreviewed.reduce((n, [a, b]) => n + b - a + 1, 0);
  $("review-count").textContent = `${frameCount() - unreviewed} of ${frameCount()} frames`;
}

function split(id, frame) {
  const before = new Set(ui.doc.faces.map((f) => f.id));
  return edit({ op: "split", id, frame }).then((doc) => {
    const added = doc?.faces.find((f) => !before.has(f.id));
    if (added) {
      toast(`${faceName(id)} split: from frame ${frame + 1} on it is ${faceName(added.id)} (blurred)`);
      setActive(added.id);
    }
    return doc;
  });
}

const timeline = new Timeline({
  root: $("timeline"),
  rows: $("rows"),
  lowGroup: $("low-group"),
  lowRows: $("low-rows"),
  lowSummary: $("low-summary"),
  reviewLane: $("review-lane"),
  playhead: $("playhead"),
  head: rowHead,
  onSeek: (frame, id) => {
    if (id !== null) setActive(id);
    player.seek(frame);
  },
  onScrub: (frame) => player.seek(frame),
  onSplit: (id, frame) => split(id, frame),
  onMark: (start, end) => {
    const all = ui.doc.reviewed.some(([a, b]) => a <= start && end <= b);
    edit({ op: "reviewed", start, end, reviewed: !all });
  },
});

$("sort").addEventListener("change", () => {
  ui.sort = $("sort").value;
  renderTimeline();
});
$("select-all").addEventListener("click", () => choose(ui.doc.faces.map((f) => f.id)));
$("select-none").addEventListener("click", () => choose([]));
$("select-invert").addEventListener("click", () => {
  const chosen = new Set(ui.doc.selected);
  choose(ui.doc.faces.map((f) => f.id).filter((id) => !chosen.has(id)));
});
$("reset").addEventListener("click", async () => {
  const ok = await ask({
    title: "Undo every edit?",
    body: [text("p", "Every edit of this review is taken back: the faces, boxes and choices go back to the analysis. The history keeps it, and Undo brings it back.")],
    ok: "Undo all edits",
  });
  if (ok) edit({ op: "reset" });
});

// -- dialogs: confirmations and the merge menu -------------------------------------------------

function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

let dialogDone = null;

/** A modal question; resolves to the value of the button pressed ("ok", "cancel", or a pick). */
function ask({ title, body, ok, cancel = "Cancel" }) {
  const dialog = $("dialog");
  closeDialog();
  $("dialog-title").textContent = title;
  $("dialog-body").replaceChildren(...body);
  $("dialog-ok").hidden = !ok;
  $("dialog-ok").textContent = ok || "";
  $("dialog-cancel").textContent = cancel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialogDone = resolve;
    dialog.addEventListener("close", () => {
      dialogDone = null;
      resolve(dialog.returnValue === "ok" ? true : dialog.returnValue.startsWith("pick:") ? dialog.returnValue : false);
    }, { once: true });
  });
}

function closeDialog() {
  const dialog = $("dialog");
  if (dialog.open) {
    dialog.returnValue = "cancel";
    dialog.close();
  }
  dialogDone?.(false);
  dialogDone = null;
}

function sharedFrames(a, b) {
  const frames = [];
  ui.doc.frames.forEach((faces, i) => {
    if (faces.some((f) => f[0] === a) && faces.some((f) => f[0] === b)) frames.push(i);
  });
  return frames;
}

function faceLine(face) {
  const line = document.createElement("div");
  line.className = "face-line";
  line.append(
    text("span", `${faceName(face.id)}: ${range(face.first, face.last)}${face.selected ? ", blurred" : ", visible"}`, "face-line-name"),
    pictures(face),
  );
  return line;
}

/** Merge `drop` into `keep` (on frames start..end only, if given), once the person confirms. */
async function confirmMerge(keep, drop, start = null, end = null) {
  const a = faceOf(keep);
  const b = faceOf(drop);
  if (!a || !b) return null;
  let shared = sharedFrames(keep, drop);
  if (start !== null) shared = shared.filter((f) => f >= start && f <= end);
  const body = [faceLine(a), faceLine(b)];
  const where = start === null ? "" : ` on ${range(start, end)}`;
  const choice = start === null
    ? (a.selected || b.selected ? ` ${faceName(keep)} is blurred if either was.` : "")
    : ` There they are ${a.selected ? "blurred" : "left visible"}, as ${faceName(keep)} is.`;
  body.push(text("p", `${faceName(drop)}'s boxes${where} become ${faceName(keep)}'s.${choice}`));
  if (shared.length) {
    body.push(text("p", `Both are on screen on ${shared.length} frame${shared.length === 1 ? "" : "s"} ` +
      `(${range(shared[0], shared[shared.length - 1])}): there one box will cover both.`, "warn"));
  }
  const ok = await ask({ title: `Merge ${faceName(drop)} into ${faceName(keep)}?`, body, ok: "Merge" });
  if (!ok) return null;
  const change = { op: "merge", keep, drop };
  if (start !== null) Object.assign(change, { start, end });
  const doc = await edit(change);
  if (doc) {
    setActive(keep);
    toast(`${faceName(drop)} merged into ${faceName(keep)}${where}`);
  }
  return doc;
}

/** Boxes of other IDs lying on a visible face (or on every one) become part of it, once confirmed. */
async function confirmAbsorb(face) {
  const faces = face ? [face] : ui.doc.faces.filter((f) => f.lying);
  const count = faces.reduce((n, f) => n + f.lying, 0);
  const names = faces.map((f) => faceName(f.id)).join(", ");
  const body = [...faces.map(faceLine), text("p",
    `${count} box${count === 1 ? "" : "es"} of other face IDs ${count === 1 ? "has its" : "have their"} ` +
    `centre and most of their area inside the box of ${names}: a second box on the same face. ` +
    "They become part of that face's box (one box covering both), blurred or visible with it.")];
  const title = face ? `Take the boxes lying on ${faceName(face.id)} into it?` : `Take the boxes lying on ${names} into them?`;
  const ok = await ask({ title, body, ok: "Take them in" });
  if (!ok) return null;
  return edit(face ? { op: "absorb", id: face.id } : { op: "absorb" }).then((doc) => {
    if (doc) toast(`The boxes lying on ${names} are part of ${face ? "it" : "them"} now`);
    return doc;
  });
}

/** The merge menu: every other face with its pictures, suggested ones first. */
async function mergeWith(keep) {
  const me = faceOf(keep);
  const score = new Map();
  for (const s of ui.doc.suggestions) {
    if (s.ids.includes(keep)) score.set(s.ids[0] === keep ? s.ids[1] : s.ids[0], s.score);
  }
  const others = ui.doc.faces
    .filter((f) => f.id !== keep)
    .sort((a, b) => (score.get(b.id) || 0) - (score.get(a.id) || 0) ||
      Math.abs(a.first - me.first) - Math.abs(b.first - me.first) || a.id - b.id);
  const list = document.createElement("ul");
  list.className = "merge-menu";
  for (const face of others) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "submit";
    button.value = `pick:${face.id}`;
    button.className = "pick";
    button.append(
      text("span", `${faceName(face.id)}${score.has(face.id) ? " · suggested" : ""}${face.low ? " · low confidence" : ""}`, "face-line-name"),
      text("span", `${range(face.first, face.last)}`, "meta"),
      pictures(face),
    );
    button.setAttribute("aria-label", `Merge ${faceName(face.id)} (${range(face.first, face.last)}) into ${faceName(keep)}`);
    li.append(button);
    list.append(li);
  }
  const picked = await ask({ title: `Merge ${faceName(keep)} with…`, body: [faceLine(me), list] });
  if (!picked) return null;
  return confirmMerge(keep, Number(picked.slice(5)));
}

$("merge-with").addEventListener("click", () => {
  if (ui.active !== null) mergeWith(ui.active);
});
$("only-visible").addEventListener("click", () => {
  if (ui.active !== null) leaveOnly(ui.active);
});

// -- what is left to look at: suggestions, candidates, covered faces ---------------------------

function card(title, body, buttons) {
  const li = document.createElement("li");
  li.className = "todo-card";
  li.append(text("p", title, "todo-title"), ...body);
  const row = document.createElement("div");
  row.className = "row";
  for (const [label, action, aria] of buttons) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (aria) b.setAttribute("aria-label", aria);
    b.addEventListener("click", action);
    row.append(b);
  }
  li.append(row);
  return li;
}

const SHOWN = 4; // cards of each kind; the navigation buttons step through all

function more(list, count) {
  if (count > SHOWN) list.append(text("li", `and ${count - SHOWN} more`, "hint"));
}

function renderTodo() {
  const doc = ui.doc;
  const suggestions = $("suggestions");
  suggestions.replaceChildren();
  for (const s of doc.suggestions.slice(0, SHOWN)) {
    const [a, b] = s.ids.map(faceOf);
    suggestions.append(card(
      `Faces ${a.id} and ${b.id} look like one person (${Math.round(s.score * 100)} %)`,
      [pictures(a), pictures(b)],
      [
        ["Merge", () => confirmMerge(a.id, b.id), `Merge faces ${a.id} and ${b.id}`],
        ["Not the same person", () => edit({ op: "not-same", ids: [a.id, b.id] }),
          `Faces ${a.id} and ${b.id} are not the same person`],
      ],
    ));
  }
  more(suggestions, doc.suggestions.length);
  const candidates = $("candidates");
  candidates.replaceChildren();
  const open = doc.candidates.filter((c) => c.unboxed.length);
  for (const c of open.slice(0, SHOWN)) {
    candidates.append(card(
      `Face-like region ${c.id} without a box: ${range(c.first, c.last)} (score ${c.confidence})`,
      [],
      [
        ["Go", () => goCandidate(c), `Go to face-like region ${c.id}`],
        ["Blur it", () => accept(c.id), `Blur face-like region ${c.id}`],
        ["Not a face", () => dismiss(c.id), `Face-like region ${c.id} is not a face`],
      ],
    ));
  }
  more(candidates, open.length);
  const covered = $("covered");
  covered.replaceChildren();
  const byFace = new Map();
  for (const c of doc.covered) {
    if (!byFace.has(c.face)) byFace.set(c.face, []);
    byFace.get(c.face).push(c);
  }
  const lying = doc.faces.filter((f) => f.lying);
  if (lying.length > 1) {
    const frames = lying.reduce((n, f) => n + f.lying, 0);
    covered.append(card(
      `Boxes of other IDs lie on the faces left visible (${lying.map((f) => f.id).join(", ")})`,
      [],
      [[`Take in all ${frames}`, () => confirmAbsorb(null),
        `Make the boxes lying on the faces left visible part of them (${frames} boxes)`]],
    ));
  }
  for (const [id, spans] of [...byFace].slice(0, SHOWN)) {
    const face = faceOf(id);
    const where = spans.slice(0, 3).map((c) => `${range(c.start, c.end)} (${faceName(c.by)})`).join(", ");
    const buttons = [["Go", () => goCovered(spans[0]), `Go to ${faceName(id)} under a blur on frame ${spans[0].start + 1}`]];
    if (face.lying) {
      buttons.push([`Take in the ${face.lying} boxes lying on it`, () => confirmAbsorb(face),
        `Make the boxes lying on ${faceName(id)} part of it (${face.lying} frames)`]);
    }
    const li = card(
      `${faceName(id)} (visible) is under a blur on ${where}${spans.length > 3 ? ` and ${spans.length - 3} more` : ""}`,
      [],
      buttons,
    );
    // the spans where most of the face is covered, each with its own fix: the covering box
    // is this face there (a track that slid onto it); a neighbour's face stays blurred
    const worst = [...spans].sort((a, b) => b.share - a.share).slice(0, 3);
    const fixes = document.createElement("div");
    fixes.className = "row";
    for (const c of worst) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = `${range(c.start, c.end)}: ${faceName(c.by)} is ${faceName(id)} there`;
      b.setAttribute("aria-label", `${faceName(c.by)} is ${faceName(id)} on ${range(c.start, c.end)}`);
      b.addEventListener("click", () => {
        goCovered(c);
        confirmMerge(id, c.by, c.start, c.end);
      });
      fixes.append(b);
    }
    li.append(fixes);
    covered.append(li);
  }
  more(covered, byFace.size);
  $("todo-empty").hidden = doc.suggestions.length + open.length + doc.covered.length > 0;
  $("next-candidate").disabled = open.length === 0;
  $("next-covered").disabled = doc.covered.length === 0;
  $("next-unreviewed").disabled = doc.unreviewed.length === 0;
  $("next-candidate").textContent = `Next region without a box (${open.length})`;
  $("next-covered").textContent = `Next covered face (${doc.covered.length})`;
}

function goCandidate(c) {
  player.seek(c.unboxed[0] ?? c.first);
  setCandidate(c.id);
}

function goCovered(c) {
  player.seek(c.start);
  setActive(c.face);
}

function accept(id) {
  const before = new Set(ui.doc.faces.map((f) => f.id));
  return edit({ op: "accept", candidate: id }).then((doc) => {
    const added = doc?.faces.find((f) => !before.has(f.id));
    if (added) {
      setActive(added.id);
      toast(`Face-like region ${id} is now ${faceName(added.id)}, blurred`);
    }
  });
}

function dismiss(id) {
  return edit({ op: "dismiss", candidate: id }).then(() => toast(`Face-like region ${id} dismissed`));
}

/** The start of the first of `spans` after the current frame (wrapping to the first). */
function nextIn(spans) {
  if (!spans.length) return null;
  const now = player.current;
  const starts = spans.map(([a]) => a).sort((a, b) => a - b);
  const next = starts.find((a) => a > now);
  if (next !== undefined) return next;
  toast("Back to the first one");
  return starts[0];
}

function nextUnreviewed() {
  const frame = nextIn(ui.doc.unreviewed);
  if (frame === null) return toast("Every frame is marked reviewed");
  player.seek(frame);
}

/** Mark reviewed every frame from where the unreviewed stretch around here began to here. */
function markReviewed() {
  const now = player.current;
  const gap = ui.doc.unreviewed.find(([a, b]) => a <= now && now <= b);
  if (!gap) return nextUnreviewed();
  return edit({ op: "reviewed", start: gap[0], end: now }).then((doc) => {
    if (doc) toast(`${range(gap[0], now)} marked reviewed`);
    if (doc?.unreviewed.length) nextUnreviewed();
  });
}

$("next-unreviewed").addEventListener("click", nextUnreviewed);
$("mark-reviewed").addEventListener("click", markReviewed);
$("next-candidate").addEventListener("click", () => {
  const open = ui.doc.candidates.filter((c) => c.unboxed.length);
  // one stop for each stretch of frames a region is without a box
  const frame = nextIn(open.flatMap((c) => c.unboxed.filter((f, i) => f - 1 !== c.unboxed[i - 1]).map((f) => [f, f])));
  if (frame === null) return;
  const c = open.find((x) => x.unboxed.includes(frame));
  player.seek(frame);
  setCandidate(c.id);
});
$("next-covered").addEventListener("click", () => {
  const frame = nextIn(ui.doc.covered.map((c) => [c.start, c.end]));
  if (frame === null) return;
  const c = ui.doc.covered.find((x) => x.start <= frame && frame <= x.end);
  player.seek(frame);
  setActive(c.face);
});
$("accept-candidate").addEventListener("click", () => ui.candidate !== null && accept(ui.candidate));
$("dismiss-candidate").addEventListener("click", () => ui.candidate !== null && dismiss(ui.candidate));

// -- undo, redo, history ---------------------------------------------------------------------------

function renderUndo() {
  const h = ui.doc.history;
  $("undo").disabled = h.undo === null;
  $("redo").disabled = h.redo === null;
  $("undo").title = h.undo ? `Undo: ${h.undo} (Ctrl+Z)` : "Nothing to undo";
  $("redo").title = h.redo ? `Redo: ${h.redo} (Ctrl+Shift+Z)` : "Nothing to redo";
  $("undo-label").textContent = [h.undo && `Undo: ${h.undo}`, h.redo && `Redo: ${h.redo}`]
    .filter(Boolean).join(" · ");
}

const undo = () => ui.doc?.history.undo !== null && edit({ op: "undo" });
const redo = () => ui.doc?.history.redo !== null && edit({ op: "redo" });
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);

function renderHistory() {
  const list = $("history");
  const { entries, count } = ui.doc.history;
  list.start = count;
  list.replaceChildren(...entries.map((e) => {
    const li = document.createElement("li");
    li.textContent = `${new Date(e.at * 1000).toLocaleString()} · ${e.by}: ${e.summary}`;
    return li;
  }));
  $("history-empty").hidden = entries.length > 0;
}

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
      ? `Frame ${frame + 1} / ${frameCount()} · ${seconds(t)}`
      : "";
    $("play").textContent = player.playing ? "❚❚" : "▶";
    $("play").setAttribute("aria-label", player.playing ? "Pause" : "Play");
    if (!player.playing) closePreview();
    timeline.setFrame(frame);
    renderBoxEditor();
  },
  onDraw: (frame, box) => addBox(frame, box),
  onBoxEdit: (id, frame, box) => edit({ op: "box", id, frame, box: [box.x, box.y, box.w, box.h] }),
  onActivate: (id, stack) => setActive(id, stack),
  onCandidate: (id) => setCandidate(id),
  onStills: () => {
    $("play").disabled = true;
    toast("This browser cannot play the video's format: each frame is shown as veil decodes it.");
  },
  onLinkError: async () => {
    // the signed link may have expired while the page stayed open: ask for a fresh one
    const jobId = ui.jobId;
    try {
      const doc = await get(`/v1/review/jobs/${jobId}`);
      if (jobId !== ui.jobId) return;
      setDoc(doc);
      player.relink(doc.links.source);
    } catch (error) {
      fail(error);
    }
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
  if ($("review-view").hidden || $("dialog").open || e.altKey) return;
  const target = e.target;
  const tag = target.tagName;
  const typing = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  if ((e.ctrlKey || e.metaKey) && !typing) {
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) undo();
    else if ((key === "z" && e.shiftKey) || key === "y") redo();
    else return;
    e.preventDefault();
    return;
  }
  if (e.ctrlKey || e.metaKey || typing) return;
  const onButton = tag === "BUTTON" || tag === "A";
  const jump = e.shiftKey ? 10 : 1;
  let handled = true;
  if (e.key === "ArrowRight" || e.key === ".") player.step(jump);
  else if (e.key === "ArrowLeft" || e.key === ",") player.step(-jump);
  else if (e.key === "Home") player.seek(0);
  else if (e.key === "End") player.seek(player.frames - 1);
  else if (e.key === "k" || (e.key === " " && !onButton)) player.togglePlay();
  else if (e.key === "n") nextUnreviewed();
  else if (e.key === "r") markReviewed();
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
  for (const el of ["box-x", "box-y", "box-w", "box-h", "apply-box", "extend", "split", "delete-face",
    "only-visible", "merge-with"]) {
    $(el).disabled = !enabled;
  }
  $("merge-with").disabled = !enabled || ui.doc.faces.length < 2;
  $("delete-box").disabled = !box;
  const candidate = ui.doc.candidates.find((c) => c.id === ui.candidate);
  $("candidate-editor").hidden = !candidate;
  if (candidate) {
    $("candidate-label").textContent =
      `Face-like region ${candidate.id} (score ${candidate.confidence}, below the threshold) on ` +
      `${range(candidate.first, candidate.last)}: nothing blurs it unless you say it is a face.`;
  }
  const frame = player.current + 1;
  if (!enabled) {
    $("active-label").textContent = candidate ? "A face-like region is chosen." : "No face chosen: click a box or a face.";
    for (const f of ["box-x", "box-y", "box-w", "box-h"]) $(f).value = "";
    return;
  }
  const track = ui.doc.manual.find((t) => t.id === id);
  const face = faceOf(id);
  let text = `${faceName(id)}${face?.selected ? " (blurred)" : " (visible)"}`;
  if (track) text += ` (drawn, frames ${track.start + 1}–${track.end + 1}, keyframes ${track.keys.map((k) => k + 1).join(", ")})`;
  text += ": ";
  text += box ? `box on frame ${frame}.` : `no box on frame ${frame}${face ? ` (seen on frames ${face.first + 1}–${face.last + 1})` : ""}.`;
  const here = ui.stack.filter((other) => player.boxes().some((b) => b.id === other));
  if (box && here.length > 1 && here.includes(id)) {
    const next = here[(here.indexOf(id) + 1) % here.length];
    text += ` ${here.length} boxes overlap here: click again for ${faceName(next)}.`;
  }
  $("active-label").textContent = text;
  const typing = document.activeElement;
  if (typing?.tagName === "INPUT" && typing.closest(".fields")) return; // keep what is typed
  const shown = box || nearestBox(id);
  for (const [f, v] of [["box-x", shown?.x * width], ["box-y", shown?.y * height],
    ["box-w", shown?.w * width], ["box-h", shown?.h * height]]) {
    $(f).value = shown ? String(Math.round(v)) : "";
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
  const id = ui.active;
  const frame = player.current;
  edit({
    op: "box",
    id,
    frame,
    box: [v("box-x") / width, v("box-y") / height, v("box-w") / width, v("box-h") / height],
  }).then(() => toast(`Box of ${faceName(id)} set on frame ${frame + 1}`));
});
$("extend").addEventListener("click", () => {
  const id = ui.active;
  const frame = player.current;
  edit({ op: "extend", id, frame }).then(() => toast(`${faceName(id)} extended to frame ${frame + 1}`));
});
$("split").addEventListener("click", () => split(ui.active, player.current));
$("delete-box").addEventListener("click", () => edit({ op: "delete", id: ui.active, frame: player.current }));
$("delete-face").addEventListener("click", async () => {
  const id = ui.active;
  const face = faceOf(id);
  const ok = await ask({
    title: `Delete ${faceName(id)}?`,
    body: [faceLine(face), text("p", `Every box of ${faceName(id)} is deleted: nothing blurs it any more.`, "warn")],
    ok: "Delete face",
  });
  if (ok) edit({ op: "delete", id });
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
  const jobId = ui.jobId;
  $("preview-button").disabled = true;
  try {
    await ui.edits;
    const response = await call(
      "GET",
      `/v1/review/jobs/${jobId}/preview?frame=${frame}&blur=${encodeURIComponent(blur)}`,
      undefined,
      { raw: true },
    );
    const blob = await response.blob();
    if (jobId !== ui.jobId) return;
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
  $("preview-img").removeAttribute("src");
  $("preview").hidden = true;
  $("preview-close").hidden = true;
  delete $("stage").dataset.preview;
}

$("preview-button").addEventListener("click", previewFrame);
$("preview-close").addEventListener("click", () => {
  closePreview();
  $("preview-button").focus();
});

// -- downloads: each asked for with the token, so the history says who -------------------------

async function download(name, job = null) {
  try {
    const { link } = await post(`/v1/review/jobs/${ui.jobId}/downloads`, { name, job });
    const a = document.createElement("a");
    a.href = link;
    a.download = ""; // the name the server gives (Unicode names included)
    document.body.append(a);
    a.click();
    a.remove();
    const doc = await get(`/v1/review/jobs/${ui.jobId}`);
    if (doc.job.id === ui.jobId) setDoc(doc);
  } catch (error) {
    fail(error);
  }
}

$("download-ids").addEventListener("click", () => download("ids.txt"));
$("download-annotations").addEventListener("click", () => download("annotations.json"));

// -- redaction -----------------------------------------------------------------------------------

function renderRedact() {
  const doc = ui.doc;
  const hidden = doc.selected.length;
  $("choice-summary").textContent = hidden
    ? `Faces ${doc.selected.join(", ")} will be hidden with "${doc.blur}"; the others stay visible.`
    : "No face is chosen: the video would be published with every face visible.";
  const unreviewed = doc.policy.require_reviewed && doc.unreviewed.length > 0;
  const weak = doc.policy.refused_blurs.includes(doc.blur);
  $("redact-warnings").replaceChildren(...doc.warnings.map((w) => text("li", w.text, `warning ${w.code}`)));
  if (unreviewed) {
    $("redact-warnings").append(text("li", "This server's policy asks for every frame to be reviewed before a redaction.", "warning policy"));
  }
  if (weak) {
    $("redact-warnings").append(text("li", `This server's policy publishes no blur weaker than "${doc.policy.min_blur}": choose another blur type.`, "warning policy"));
  }
  $("redact").disabled = unreviewed || weak;
  renderRedactions();
}

$("redact").addEventListener("click", async () => {
  $("redact-error").textContent = "";
  await ui.edits;
  const doc = ui.doc;
  let confirm = [];
  if (doc.warnings.length) {
    const nothing = doc.warnings.some((w) => w.code === "nothing-blurred");
    const list = text("ul", "", "warnings");
    list.append(...doc.warnings.map((w) => text("li", w.text, `warning ${w.code}`)));
    const ok = await ask({
      title: nothing ? "Publish with every face visible?" : "Redact with these warnings?",
      body: [list, text("p", `Faces to blur: ${doc.selected.join(", ") || "none"}.`)],
      ok: nothing ? "Redact with nothing blurred" : "Redact anyway",
    });
    if (!ok) return;
    confirm = doc.warnings.map((w) => w.code);
  }
  $("redact").disabled = true;
  try {
    const job = await post(`/v1/review/jobs/${ui.jobId}/redact`, { blur: $("blur").value, confirm });
    setDoc(await get(`/v1/review/jobs/${ui.jobId}`));
    await resumeRedaction(job.id);
  } catch (error) {
    fail(error, "redact-error");
  } finally {
    if (ui.doc) renderRedact();
  }
});

async function resumeRedaction(jobId) {
  $("result").hidden = true;
  $("redact-status").hidden = false;
  const bar = $("redact-progress");
  const status = $("redact-text");
  let done;
  try {
    done = await follow(jobId, (j) => {
      bar.value = j.progress;
      status.textContent = j.state === "queued" ? "Waiting for a worker" : `${j.state}: ${j.progress}%`;
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
  status.textContent = "Finished";
  await showResult(jobId);
}

async function showResult(jobId) {
  const mine = generation;
  const { outputs } = await get(`/v1/review/jobs/${jobId}/links`);
  if (mine !== generation) return;
  const names = Object.keys(outputs);
  const video = names.find((n) => /_(redacted|review)\.[^.]+$/.test(n));
  const report = names.find((n) => n.endsWith("_report.json"));
  const result = $("result");
  const player2 = $("result-video");
  if (video && !player2.src.includes(`/${jobId}/`)) player2.src = outputs[video];
  $("download-result").hidden = !video;
  $("download-result").onclick = () => download(`outputs/${video}`, jobId);
  $("download-report").hidden = !report;
  $("download-report").onclick = () => download(`outputs/${report}`, jobId);
  try {
    const r = await get(`/v1/jobs/${jobId}/report`);
    const ids = r.face_ids.length ? `faces ${r.face_ids.join(", ")}` : "no face";
    $("result-report").textContent =
      `Redacted by ${r.who}: ${ids} hidden with "${r.settings.blur || "med"}", ${r.frames} frames, job ${r.job.slice(0, 8)}.`;
  } catch {
    $("result-report").textContent = "";
  }
  if (mine !== generation) return;
  result.hidden = false;
  result.dataset.job = jobId;
}

function renderRedactions() {
  const list = $("redactions");
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
  if (!ui.doc.redactions.length) list.append(text("li", "None yet."));
}

route();
