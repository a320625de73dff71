// The video with its face boxes drawn over it, frame-exact.
//
// Frames are the annotations' events: frame i starts at tick starts[i] (plus
// the file's offset) of `timescale` ticks per second. The frame on screen is
// found from the presented frame's media time (requestVideoFrameCallback) the
// way the renderer finds a frame's faces: tick = floor(t * timescale + 1/2).

const HANDLE = 9; // px: the resize handle at a box's bottom-right corner
const MIN_BOX = 4; // px: smaller drags are clicks

export class Player {
  constructor({ stage, video, still, canvas, onFrame, onDraw, onBoxEdit, onActivate, onCandidate, onStills, onLinkError }) {
    Object.assign(this, { stage, video, still, canvas, onFrame, onDraw, onBoxEdit, onActivate, onCandidate, onStills, onLinkError });
    this.doc = null;
    this.candidates = new Map(); // frame -> open candidates' boxes on it
    this.activeCandidate = null;
    this.current = 0;
    this.shown = -1;
    this.active = null;
    this.drawing = false;
    this.drag = null;
    this.ctx = canvas.getContext("2d");
    new ResizeObserver(() => this.resize()).observe(stage);
    this.stills = false; // true: frames are pictures rendered by the server (no <video>)
    video.addEventListener("loadedmetadata", () => this.seek(this.current));
    video.addEventListener("error", () => {
      if (!this.doc || !this.doc.links.frames || !video.getAttribute("src")) return;
      // a link that expired is fetched again once; a format the browser cannot play shows stills
      if (this.onLinkError && !this.retried) {
        this.retried = true;
        this.onLinkError();
      } else this.useStills();
    });
    video.addEventListener("seeked", () => this.markShown());
    video.addEventListener("pause", () => {
      this.seek(this.frameAt(video.currentTime));
      this.onFrame?.(this.current);
    });
    video.addEventListener("play", () => this.onFrame?.(this.current));
    const onVideoFrame = (_now, meta) => {
      const presented = this.frameAt(meta.mediaTime);
      // once paused, a late callback for a frame shown while playing must not
      // undo the seek that followed the pause (its "seeked" marks the frame shown)
      if (video.paused && presented !== this.current) {
        video.requestVideoFrameCallback(onVideoFrame);
        return;
      }
      this.shown = presented;
      if (!video.paused) this.current = this.shown;
      this.stage.dataset.shown = String(this.shown);
      this.stage.dataset.frame = String(this.current);
      this.render();
      if (!video.paused) this.onFrame?.(this.current);
      video.requestVideoFrameCallback(onVideoFrame);
    };
    if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(onVideoFrame);
    canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    canvas.addEventListener("pointercancel", () => {
      this.drag = null;
      this.render();
    });
  }

  get frames() {
    return this.doc ? this.doc.media.starts.length : 0;
  }

  load(doc, sourceUrl) {
    const first = this.doc === null;
    this.doc = doc;
    this.indexCandidates();
    const { width, height, kind } = doc.media;
    this.stage.style.aspectRatio = `${width} / ${height}`;
    // as wide as the column, but never taller than the window leaves room for
    this.stage.style.width = `min(100%, calc(var(--stage-height) * ${width / height}))`;
    this.stills = false;
    delete this.stage.dataset.stills;
    if (kind === "image") {
      this.video.hidden = true;
      this.still.hidden = false;
      if (first) this.still.src = sourceUrl;
      this.still.onload = () => this.markShown();
    } else {
      this.still.hidden = true;
      this.video.hidden = false;
      if (first && sourceUrl) this.video.src = sourceUrl;
    }
    if (first) this.seek(0);
    this.render();
  }

  update(doc) {
    this.doc = doc;
    this.indexCandidates();
    this.render();
  }

  /** Forget the video (signing out, or opening another): nothing of it stays on screen. */
  unload() {
    this.doc = null;
    this.active = null;
    this.activeCandidate = null;
    this.candidates = new Map();
    this.retried = false;
    this.drag = null;
    if (!this.video.paused) this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
    this.still.removeAttribute("src");
    this.still.onload = null;
    this.stills = false;
    delete this.stage.dataset.stills;
    delete this.stage.dataset.frame;
    delete this.stage.dataset.shown;
    this.current = 0;
    this.shown = -1;
    this.render();
  }

  /** Point the video at a fresh link to the same file (the old one expired). */
  relink(sourceUrl) {
    const at = this.current;
    if (this.doc.media.kind === "image") this.still.src = sourceUrl;
    else if (!this.stills) {
      this.video.src = sourceUrl;
      this.video.addEventListener("loadedmetadata", () => this.seek(at), { once: true });
    }
  }

  indexCandidates() {
    this.candidates = new Map();
    for (const c of this.doc?.candidates || []) {
      for (const [frame, x, y, w, h] of c.boxes) {
        if (!this.candidates.has(frame)) this.candidates.set(frame, []);
        this.candidates.get(frame).push({ id: c.id, x, y, w, h });
      }
    }
  }

  /** The browser cannot play the source (WMV, AVI...): show the server's picture of each frame. */
  useStills() {
    this.stills = true;
    this.video.removeAttribute("src");
    this.video.hidden = true;
    this.still.hidden = false;
    this.stage.dataset.stills = "true";
    this.onStills?.();
    this.still.onload = () => {
      if (this.still.dataset.frame === String(this.current)) this.markShown();
    };
    this.seek(this.current);
  }

  stillUrl(frame) {
    const [path, query] = this.doc.links.frames.split("?");
    return `${path}/${frame}.jpg?${query}`;
  }

  // -- time -----------------------------------------------------------------------

  frameAt(seconds) {
    const { timescale, offset, starts } = this.doc.media;
    const tick = Math.floor(seconds * timescale + 0.5) - offset;
    let lo = 0;
    let hi = starts.length - 1;
    if (tick < starts[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= tick) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  timeOf(frame) {
    const { timescale, offset, starts, durations } = this.doc.media;
    return (starts[frame] + offset) / timescale;
  }

  /** Seek to the middle of the frame: the player shows the frame whose time is at or before. */
  seek(frame) {
    if (!this.doc) return;
    const n = this.frames;
    this.current = Math.max(0, Math.min(n - 1, frame | 0));
    this.stage.dataset.frame = String(this.current);
    const { timescale, starts, durations, offset } = this.doc.media;
    const middle = (starts[this.current] + offset + durations[this.current] / 2) / timescale;
    if (this.stills) {
      this.still.dataset.frame = String(this.current);
      this.still.src = this.stillUrl(this.current);
    } else if (this.doc.media.kind !== "image" && this.video.readyState >= 1) {
      if (!this.video.paused) this.video.pause();
      if (Math.abs(this.video.currentTime - middle) > 1e-6) this.video.currentTime = middle;
      else this.markShown();
    } else if (this.doc.media.kind === "image") {
      this.markShown();
    }
    this.render();
    this.onFrame?.(this.current);
  }

  markShown() {
    if (!this.doc) return;
    if (this.doc.media.kind !== "image" && !this.stills && !this.video.paused) return;
    this.shown = this.current;
    this.stage.dataset.shown = String(this.shown);
    this.render();
  }

  step(delta) {
    this.seek(this.current + delta);
  }

  togglePlay() {
    if (!this.doc || this.doc.media.kind === "image" || this.stills) return;
    if (this.video.paused) {
      if (this.current >= this.frames - 1) this.seek(0);
      this.video.play();
    } else {
      this.video.pause();
    }
  }

  get playing() {
    return !this.video.paused;
  }

  // -- drawing ----------------------------------------------------------------------

  resize() {
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.canvas.clientWidth * dpr);
    this.canvas.height = Math.round(this.canvas.clientHeight * dpr);
    this.render();
  }

  boxes(frame = this.current) {
    if (!this.doc) return [];
    return (this.doc.frames[frame] || []).map(([id, x, y, w, h, manual]) => ({
      id, x, y, w, h, manual: manual === 1,
    }));
  }

  setActive(id) {
    this.active = id;
    if (id !== null) this.activeCandidate = null;
    this.render();
  }

  setCandidate(id) {
    this.activeCandidate = id;
    if (id !== null) this.active = null;
    this.render();
  }

  setDrawing(on) {
    this.drawing = on;
    this.stage.classList.toggle("drawing", on);
  }

  render() {
    const { ctx, canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.doc) return;
    ctx.scale(dpr, dpr);
    const W = canvas.clientWidth;
    const H = canvas.clientHeight;
    const selected = new Set(this.doc.selected);
    const manualIds = new Set(this.doc.manual.map((t) => t.id));
    let boxes = this.boxes();
    if (this.drag && this.drag.kind !== "draw") {
      boxes = boxes.map((b) => (b.id === this.drag.id ? { ...b, ...this.drag.box, manual: true } : b));
    }
    const described = [];
    for (const b of boxes) {
      const hidden = selected.has(b.id);
      const drawn = manualIds.has(b.id);
      const colour = drawn ? "#d94be8" : hidden ? "#ff5a3c" : "#35d08a";
      const x = b.x * W;
      const y = b.y * H;
      const w = b.w * W;
      const h = b.h * H;
      ctx.lineWidth = b.id === this.active ? 3.5 : 2;
      ctx.setLineDash(hidden ? [] : [6, 4]);
      ctx.strokeStyle = colour;
      ctx.strokeRect(x, y, w, h);
      ctx.setLineDash([]);
      const label = `${b.id}${hidden ? " · blur" : ""}${b.manual ? " ✎" : ""}`;
      ctx.font = "600 12px system-ui, sans-serif";
      const tw = ctx.measureText(label).width + 8;
      const ly = y >= 17 ? y - 17 : y + h;
      ctx.fillStyle = colour;
      ctx.fillRect(x, ly, tw, 17);
      ctx.fillStyle = "#000";
      ctx.fillText(label, x + 4, ly + 13);
      if (b.id === this.active) {
        ctx.fillStyle = "#fff";
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2;
        ctx.fillRect(x + w - HANDLE, y + h - HANDLE, HANDLE * 2, HANDLE * 2);
        ctx.strokeRect(x + w - HANDLE, y + h - HANDLE, HANDLE * 2, HANDLE * 2);
      }
      described.push(`face ${b.id}${hidden ? " (blurred)" : " (not blurred)"}${b.manual ? " edited" : ""}`);
    }
    for (const c of this.candidates.get(this.current) || []) {
      const active = c.id === this.activeCandidate;
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = active ? 3 : 1.5;
      ctx.strokeStyle = "#ffd400";
      ctx.strokeRect(c.x * W, c.y * H, c.w * W, c.h * H);
      ctx.setLineDash([]);
      ctx.font = "600 11px system-ui, sans-serif";
      ctx.fillStyle = "#ffd400";
      ctx.fillText(`? ${c.id}`, c.x * W + 2, c.y * H + c.h * H + 12);
      described.push(`face-like region ${c.id} (no decision yet)`);
    }
    if (this.drag && this.drag.kind === "draw") {
      const { x, y, w, h } = this.drag.box;
      ctx.setLineDash([5, 3]);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.strokeRect(x * W, y * H, w * W, h * H);
      ctx.setLineDash([]);
    }
    this.canvas.setAttribute(
      "aria-label",
      `Frame ${this.current + 1} of ${this.frames}: ` +
        (described.length ? described.join(", ") : "no faces"),
    );
  }

  // -- the mouse ----------------------------------------------------------------------

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height, r };
  }

  /** The boxes under a point, smallest first (boxes inside boxes stay reachable). */
  under(p, frame = this.current) {
    return this.boxes(frame)
      .filter((b) => p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h)
      .sort((a, b) => a.w * a.h - b.w * b.h || a.id - b.id);
  }

  hit(p) {
    const { r } = p;
    const active = this.boxes().find((b) => b.id === this.active);
    if (active) {
      const hx = (active.x + active.w) * r.width;
      const hy = (active.y + active.h) * r.height;
      if (Math.abs(p.x * r.width - hx) <= HANDLE + 2 && Math.abs(p.y * r.height - hy) <= HANDLE + 2) {
        return { box: active, kind: "resize" };
      }
    }
    const stack = this.under(p);
    if (!stack.length) return null;
    // the chosen box while it is under the pointer (to drag it); a click without a drag
    // then goes on to the next box there (see pointerUp)
    const box = stack.find((b) => b.id === this.active) || stack[0];
    return { box, kind: "move", stack };
  }

  candidateAt(p) {
    return (this.candidates.get(this.current) || []).find(
      (c) => p.x >= c.x && p.x <= c.x + c.w && p.y >= c.y && p.y <= c.y + c.h,
    );
  }

  pointerDown(e) {
    if (!this.doc || e.button !== 0) return;
    if (this.playing) this.video.pause();
    const p = this.point(e);
    this.canvas.setPointerCapture(e.pointerId);
    if (this.drawing) {
      this.drag = { kind: "draw", from: p, box: { x: p.x, y: p.y, w: 0, h: 0 } };
      return;
    }
    const found = this.hit(p);
    if (!found) {
      const candidate = this.candidateAt(p);
      if (candidate) this.onCandidate?.(candidate.id);
      return;
    }
    const { box, kind, stack } = found;
    const wasActive = this.active === box.id;
    this.drag = {
      kind, id: box.id, from: p, start: box, box: { x: box.x, y: box.y, w: box.w, h: box.h },
      moved: false, stack: stack || [box], wasActive,
    };
    if (!wasActive) this.onActivate?.(box.id, this.drag.stack.map((b) => b.id));
  }

  pointerMove(e) {
    if (!this.drag) return;
    const p = this.point(e);
    const d = this.drag;
    const dx = p.x - d.from.x;
    const dy = p.y - d.from.y;
    if (d.kind === "draw") {
      d.box = {
        x: Math.min(p.x, d.from.x), y: Math.min(p.y, d.from.y),
        w: Math.abs(dx), h: Math.abs(dy),
      };
    } else if (d.kind === "move") {
      d.box = { ...d.box, x: d.start.x + dx, y: d.start.y + dy };
    } else {
      d.box = { ...d.box, w: Math.max(0.005, d.start.w + dx), h: Math.max(0.005, d.start.h + dy) };
    }
    d.moved = d.moved || Math.abs(dx * p.r.width) > 2 || Math.abs(dy * p.r.height) > 2;
    this.render();
  }

  pointerUp(e) {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    const p = this.point(e);
    if (d.kind === "draw") {
      if (d.box.w * p.r.width >= MIN_BOX && d.box.h * p.r.height >= MIN_BOX) {
        this.onDraw?.(this.current, d.box);
      }
    } else if (d.moved) {
      this.onBoxEdit?.(d.id, this.current, d.box);
    } else if (d.wasActive && d.stack.length > 1) {
      // a second click on overlapping boxes picks the next one under the pointer
      const ids = d.stack.map((b) => b.id);
      const next = ids[(ids.indexOf(d.id) + 1) % ids.length];
      this.onActivate?.(next, ids);
    }
    this.render();
  }
}
