// The timeline: one row per face ID with its pictures along the video and its boxes,
// a row of what was reviewed, and a playhead. Click a row to go there; drag along a
// row to split the ID at the frame where the pictures change person.

const TILE = 36; // px a picture takes on a row
const DRAG = 5; // px: a shorter move is a click

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/** Frame runs [first, last] of each ID, from the document's frames. */
function runsById(frames) {
  const runs = new Map();
  frames.forEach((faces, frame) => {
    for (const [id] of faces) {
      if (!runs.has(id)) runs.set(id, []);
      const list = runs.get(id);
      const last = list[list.length - 1];
      if (last && last[1] === frame - 1) last[1] = frame;
      else list.push([frame, frame]);
    }
  });
  return runs;
}

/** A few of a face's pictures in a row (for menus, dialogs and suggestions). */
export function pictures(face, count = 6) {
  const box = el("span", "pictures");
  const frames = face.strip.frames;
  const picked = frames.length <= count
    ? frames.map((_, k) => k)
    : Array.from({ length: count }, (_, i) => Math.round((i * (frames.length - 1)) / (count - 1)));
  for (const k of picked) {
    const tile = el("span", "tl-tile");
    tile.style.backgroundImage = `url("${face.strip.link}")`;
    tile.style.backgroundSize = `${frames.length * TILE}px ${TILE}px`;
    tile.style.backgroundPosition = `${-k * TILE}px 0`;
    box.append(tile);
  }
  box.setAttribute("role", "img");
  box.setAttribute(
    "aria-label",
    `Face ${face.id} at frames ${picked.map((k) => frames[k] + 1).join(", ")}`,
  );
  return box;
}

export class Timeline {
  constructor({ root, rows, lowGroup, lowRows, lowSummary, reviewLane, playhead, head, onSeek, onScrub, onSplit, onMark }) {
    Object.assign(this, { root, rows, lowGroup, lowRows, lowSummary, reviewLane, playhead, head, onSeek, onScrub, onSplit, onMark });
    this.doc = null;
    this.frame = 0;
    this.drag = null;
    new ResizeObserver(() => this.layout()).observe(root);
    window.addEventListener("pointermove", (e) => this.pointerMove(e));
    window.addEventListener("pointerup", (e) => this.pointerUp(e));
    window.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.drag) this.cancelDrag();
    });
    reviewLane.addEventListener("pointerdown", (e) => this.pointerDown(e, null, reviewLane));
  }

  get count() {
    return this.doc ? this.doc.media.starts.length : 0;
  }

  frameAt(lane, clientX) {
    const r = lane.getBoundingClientRect();
    const f = Math.floor(((clientX - r.left) / r.width) * this.count);
    return Math.max(0, Math.min(this.count - 1, f));
  }

  /** Rows for the faces (in `order`), each built by `head(face)` and a lane. */
  render(doc, order) {
    this.doc = doc;
    const runs = runsById(doc.frames);
    const covered = new Map();
    for (const c of doc.covered) {
      if (!covered.has(c.face)) covered.set(c.face, []);
      covered.get(c.face).push(c);
    }
    const make = (face) => {
      const row = el("div", "tl-row");
      row.setAttribute("role", "listitem");
      row.dataset.id = String(face.id);
      row.classList.toggle("blurred", face.selected);
      row.classList.toggle("low", face.low);
      const lane = el("div", "tl-lane");
      lane.dataset.id = String(face.id);
      lane.addEventListener("pointerdown", (e) => this.pointerDown(e, face, lane));
      for (const [a, b] of runs.get(face.id) || []) {
        const span = el("div", `tl-span ${face.selected ? "on" : "off"}`);
        span.dataset.first = String(a);
        span.dataset.last = String(b);
        lane.append(span);
      }
      for (const c of covered.get(face.id) || []) {
        const span = el("div", "tl-covered");
        span.dataset.first = String(c.start);
        span.dataset.last = String(c.end);
        span.title = `Under face ${c.by}'s blur on frames ${c.start + 1}–${c.end + 1}`;
        lane.append(span);
      }
      face.strip.frames.forEach((frame, k) => {
        const tile = el("span", "tl-tile");
        tile.dataset.frame = String(frame);
        tile.dataset.k = String(k);
        tile.style.backgroundImage = `url("${face.strip.link}")`;
        tile.style.backgroundSize = `${face.strip.frames.length * TILE}px ${TILE}px`;
        tile.style.backgroundPosition = `${-k * TILE}px 0`;
        lane.append(tile);
      });
      for (const frame of face.jumps) {
        const mark = el("button", "tl-jump", "✂");
        mark.type = "button";
        mark.dataset.frame = String(frame);
        mark.setAttribute(
          "aria-label",
          `Split Face ${face.id} at frame ${frame + 1} (its box jumps there: probably someone else from there on)`,
        );
        mark.title = `Its box jumps at frame ${frame + 1}: split here`;
        mark.addEventListener("pointerdown", (e) => e.stopPropagation());
        mark.addEventListener("click", () => this.onSplit(face.id, frame));
        lane.append(mark);
      }
      row.append(this.head(face), lane);
      return row;
    };
    const high = order.filter((f) => !f.low);
    const low = order.filter((f) => f.low);
    this.rows.replaceChildren(...high.map(make));
    this.lowRows.replaceChildren(...low.map(make));
    this.lowGroup.hidden = low.length === 0;
    this.lowSummary.textContent =
      `Low confidence: ${low.length} ID${low.length === 1 ? "" : "s"} that are probably not faces ` +
      `(${low.filter((f) => f.selected).length} blurred)`;
    this.renderReview();
    this.layout();
  }

  renderReview() {
    const lane = this.reviewLane;
    lane.replaceChildren();
    for (const [a, b] of this.doc.reviewed) {
      const span = el("div", "tl-span reviewed");
      span.dataset.first = String(a);
      span.dataset.last = String(b);
      lane.append(span);
    }
    for (const c of this.doc.candidates) {
      for (const frame of c.unboxed) {
        const mark = el("div", "tl-candidate");
        mark.dataset.first = mark.dataset.last = String(frame);
        lane.append(mark);
      }
    }
    const unreviewed = this.doc.unreviewed.reduce((n, [a, b]) => n + b - a + 1, 0);
    lane.setAttribute(
      "aria-label",
      `Reviewed frames: ${this.count - unreviewed} of ${this.count}` +
        (this.doc.reviewed.length ? ` (${this.doc.reviewed.map(([a, b]) => `${a + 1}–${b + 1}`).join(", ")})` : ""),
    );
  }

  /** Place everything by frame; pictures that would overlap the one before are left out. */
  layout() {
    if (!this.doc) return;
    const n = this.count;
    for (const lane of this.root.querySelectorAll(".tl-lane")) {
      const width = lane.clientWidth;
      if (!width) continue;
      const x = (frame) => (frame / n) * width;
      for (const span of lane.querySelectorAll(".tl-span, .tl-covered, .tl-candidate")) {
        const a = Number(span.dataset.first);
        const b = Number(span.dataset.last);
        span.style.left = `${x(a)}px`;
        span.style.width = `${Math.max(2, x(b + 1) - x(a))}px`;
      }
      let free = -Infinity;
      for (const tile of lane.querySelectorAll(".tl-tile")) {
        const left = Math.min(Math.max(0, x(Number(tile.dataset.frame))), width - TILE);
        tile.hidden = left < free;
        if (!tile.hidden) free = left + TILE;
        tile.style.left = `${left}px`;
      }
      for (const mark of lane.querySelectorAll(".tl-jump")) {
        mark.style.left = `${x(Number(mark.dataset.frame))}px`;
      }
    }
    this.setFrame(this.frame);
  }

  setFrame(frame) {
    this.frame = frame;
    const lane = this.reviewLane;
    if (!this.doc || !lane.clientWidth) return;
    const root = this.root.getBoundingClientRect();
    const r = lane.getBoundingClientRect();
    this.playhead.style.left = `${r.left - root.left + ((frame + 0.5) / this.count) * r.width}px`;
  }

  // -- the mouse: click to go, drag to split (or, on the review row, to mark reviewed) ------

  pointerDown(e, face, lane) {
    if (!this.doc || e.button !== 0) return;
    e.preventDefault();
    const frame = this.frameAt(lane, e.clientX);
    this.drag = { face, lane, x: e.clientX, from: frame, frame, moved: false, line: null };
  }

  pointerMove(e) {
    const d = this.drag;
    if (!d) return;
    if (!d.moved && Math.abs(e.clientX - d.x) < DRAG) return;
    d.moved = true;
    d.frame = this.frameAt(d.lane, e.clientX);
    if (!d.line) {
      d.line = el("div", d.face ? "tl-cut" : "tl-marking");
      d.lane.append(d.line);
    }
    const width = d.lane.clientWidth;
    const at = (f) => (f / this.count) * width;
    if (d.face) {
      d.line.style.left = `${at(d.frame)}px`;
      d.line.textContent = `✂ ${d.frame + 1}`;
      d.line.title = `Split Face ${d.face.id} at frame ${d.frame + 1}`;
    } else {
      const [a, b] = [Math.min(d.from, d.frame), Math.max(d.from, d.frame)];
      d.line.style.left = `${at(a)}px`;
      d.line.style.width = `${at(b + 1) - at(a)}px`;
    }
    this.onScrub(d.frame);
  }

  pointerUp() {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    d.line?.remove();
    if (!d.moved) this.onSeek(d.from, d.face ? d.face.id : null);
    else if (d.face) this.onSplit(d.face.id, d.frame);
    else this.onMark(Math.min(d.from, d.frame), Math.max(d.from, d.frame));
  }

  cancelDrag() {
    this.drag?.line?.remove();
    this.drag = null;
  }
}
