// The mask layer: a canvas the person paints on, at the image's resolution up to a working size.
//
// A 48-megapixel photo would make every stroke and undo redraw 48 million pixels, so the canvas works at
// most at WORKING_PIXELS (about screen resolution at full zoom); CSS scales it to the display, pointer
// positions and the brush width are converted from screen pixels to canvas pixels, and the exported PNG
// is scaled up to the image's natural size (the server thresholds it at half opacity). Painting is
// recorded as a list of operations (strokes, clear, invert) rather than as pixel snapshots: undo replays
// the list, which costs little memory.

const PAINT = "#ff2d6f"; // opaque; the overlay's transparency comes from CSS opacity on the canvas
const WORKING_PIXELS = 4_194_304;
const WORKING_SIDE = 4096;

export class MaskPainter {
  constructor(canvas, { onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.ops = [];
    this.undone = [];
    this.tool = "brush";
    this.brushSize = 40; // screen pixels
    this.enabled = true;
    this.current = null;
    canvas.addEventListener("pointerdown", (event) => this.#down(event));
    canvas.addEventListener("pointermove", (event) => this.#move(event));
    canvas.addEventListener("pointerup", (event) => this.#up(event));
    canvas.addEventListener("pointercancel", (event) => this.#up(event));
    canvas.addEventListener("lostpointercapture", (event) => this.#up(event));
  }

  /** Start over for a new image of the given natural size. */
  reset(width, height) {
    const scale = Math.min(1, Math.sqrt(WORKING_PIXELS / (width * height)), WORKING_SIDE / Math.max(width, height));
    this.naturalWidth = width;
    this.naturalHeight = height;
    this.canvas.width = Math.max(1, Math.round(width * scale));
    this.canvas.height = Math.max(1, Math.round(height * scale));
    this.ops = [];
    this.undone = [];
    this.current = null;
    this.#redraw();
    this.onChange();
  }

  get width() { return this.canvas.width; }
  get height() { return this.canvas.height; }
  get canUndo() { return this.ops.length > 0; }
  get canRedo() { return this.undone.length > 0; }

  /** Image pixels per screen pixel at the current zoom. */
  get pixelRatio() {
    const shown = this.canvas.getBoundingClientRect().width;
    return shown > 0 ? this.canvas.width / shown : 1;
  }

  undo() {
    if (!this.ops.length) return;
    this.undone.push(this.ops.pop());
    this.#redraw();
    this.onChange();
  }

  redo() {
    if (!this.undone.length) return;
    const op = this.undone.pop();
    this.ops.push(op);
    this.#apply(op);
    this.onChange();
  }

  clear() {
    if (this.isEmpty()) return;
    this.#commit({ type: "clear" });
  }

  invert() {
    this.#commit({ type: "invert" });
  }

  /** True when nothing is painted (reads the pixels: strokes may have been erased away). */
  isEmpty() {
    if (!this.ops.length || !this.width) return true;
    const { data } = this.ctx.getImageData(0, 0, this.width, this.height);
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] >= 128) return false; // the server counts a pixel as painted from half opacity
    }
    return true;
  }

  /** The painted area's box [left, top, right, bottom] in the image's natural pixels, or null. */
  paintedBox() {
    if (!this.ops.length || !this.width) return null;
    const { width, height } = this;
    const { data } = this.ctx.getImageData(0, 0, width, height);
    let left = width;
    let top = height;
    let right = -1;
    let bottom = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4 + 3] < 128) continue;
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
    if (right < 0) return null;
    const sx = this.naturalWidth / width;
    const sy = this.naturalHeight / height;
    return [Math.floor(left * sx), Math.floor(top * sy), Math.ceil((right + 1) * sx), Math.ceil((bottom + 1) * sy)];
  }

  /** The mask as the API wants it: PNG, the image's natural size, white = change, black = keep. */
  toBlob() {
    const { width, height } = this;
    const white = document.createElement("canvas");
    white.width = width;
    white.height = height;
    const whiteCtx = white.getContext("2d");
    whiteCtx.drawImage(this.canvas, 0, 0);
    whiteCtx.globalCompositeOperation = "source-in"; // keep the painted shape, recolour it white
    whiteCtx.fillStyle = "#fff";
    whiteCtx.fillRect(0, 0, width, height);

    const out = document.createElement("canvas");
    out.width = this.naturalWidth;
    out.height = this.naturalHeight;
    const outCtx = out.getContext("2d");
    outCtx.fillStyle = "#000";
    outCtx.fillRect(0, 0, out.width, out.height);
    outCtx.drawImage(white, 0, 0, out.width, out.height); // scaled up to the image's size
    return new Promise((resolve, reject) =>
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The mask could not be encoded."))), "image/png"),
    );
  }

  #point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) * this.canvas.width) / rect.width,
      y: ((event.clientY - rect.top) * this.canvas.height) / rect.height,
    };
  }

  #down(event) {
    if (!this.enabled || !this.width || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    const size = Math.max(1, this.brushSize * this.pixelRatio);
    this.current = { type: "stroke", erase: this.tool === "eraser", size, points: [this.#point(event)] };
    this.#strokeSegment(this.current, 0);
  }

  #move(event) {
    const stroke = this.current;
    if (!stroke) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = event.getCoalescedEvents?.() ?? [event];
    for (const each of events.length ? events : [event]) {
      stroke.points.push(this.#point(each));
      this.#strokeSegment(stroke, stroke.points.length - 1);
    }
  }

  #up() {
    const stroke = this.current;
    if (!stroke) return;
    this.current = null;
    this.ops.push(stroke);
    this.undone = [];
    this.onChange();
  }

  #commit(op) {
    this.ops.push(op);
    this.undone = [];
    this.#apply(op);
    this.onChange();
  }

  #redraw() {
    this.ctx.clearRect(0, 0, this.width, this.height);
    for (const op of this.ops) this.#apply(op);
  }

  #apply(op) {
    const ctx = this.ctx;
    if (op.type === "stroke") {
      for (let i = 0; i < op.points.length; i++) this.#strokeSegment(op, i);
    } else if (op.type === "clear") {
      ctx.clearRect(0, 0, this.width, this.height);
    } else if (op.type === "invert") {
      // XOR with an opaque rectangle turns each pixel's alpha a into 1 - a: an exact inversion.
      ctx.save();
      ctx.globalCompositeOperation = "xor";
      ctx.fillStyle = PAINT;
      ctx.fillRect(0, 0, this.width, this.height);
      ctx.restore();
    }
  }

  // Draw the piece of a stroke that ends at point i (a dot for the first point).
  #strokeSegment(stroke, i) {
    const ctx = this.ctx;
    const to = stroke.points[i];
    const from = stroke.points[Math.max(0, i - 1)];
    ctx.save();
    ctx.globalCompositeOperation = stroke.erase ? "destination-out" : "source-over";
    ctx.strokeStyle = PAINT;
    ctx.fillStyle = PAINT;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = stroke.size;
    if (i === 0) {
      ctx.beginPath();
      ctx.arc(to.x, to.y, stroke.size / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
    ctx.restore();
  }
}
