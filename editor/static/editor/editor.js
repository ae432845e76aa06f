// The editor page: pick an image, paint a mask, run an edit through the JSON API, show the result.
import { MaskPainter } from "./mask.js";

const $ = (selector, scope = document) => scope.querySelector(selector);
const $$ = (selector, scope = document) => [...scope.querySelectorAll(selector)];

const root = $("#editor");
const form = $("#edit-form");
const config = {
  modelsUrl: root.dataset.modelsUrl,
  editsUrl: root.dataset.editsUrl,
  signinUrl: root.dataset.signinUrl,
  editUrlTemplate: root.dataset.editUrlTemplate,
  maxBytes: Number(root.dataset.maxBytes),
  maxPixels: Number(root.dataset.maxPixels),
  continueFrom: root.dataset.continueFrom,
  // From {% csrf_token %}: works even if the csrftoken cookie were made HttpOnly.
  csrfToken: $("[name=csrfmiddlewaretoken]", form).value,
};

// What each task needs and which form fields it shows.
const TASKS = {
  inpaint: {
    help: "Paint over what should change, then describe what should be there.",
    image: true, mask: true, fields: ["prompt", "negative_prompt"], prompt: "required",
  },
  erase: {
    help: "Paint over an object to remove it; the background fills in.",
    image: true, mask: true, fields: [],
  },
  outpaint: {
    help: "Extend the picture beyond its edges.",
    image: true, fields: ["margins", "prompt"], prompt: "optional",
  },
  remove_background: {
    help: "Keep the subject and make the background transparent.",
    image: true, fields: [],
  },
  replace: {
    help: "Name an object and describe what should replace it; no painting needed.",
    image: true, fields: ["search_prompt", "prompt", "negative_prompt"], prompt: "required",
  },
  upscale: {
    help: "Make the image larger and sharper.",
    image: true, fields: ["prompt"], prompt: "upscale",
  },
  generate: {
    help: "Make a new image from a description alone.",
    image: false, fields: ["prompt", "negative_prompt", "aspect_ratio"], prompt: "required",
  },
};

const PROMPT_LABELS = {
  required: "Prompt",
  optional: "Prompt (optional)",
  upscale: "Describe the image (needed above 1 megapixel)",
};

// Error codes in words a person can act on; the server's own sentence follows as the detail.
const ERROR_TITLES = {
  content_filtered: "The content filter blocked this edit. Try another prompt or image.",
  daily_quota_exceeded: "You have reached today's edit limit.",
  throttled: "The image service is busy right now. Wait a few seconds and try again.",
  model_timeout: "The model took too long to answer. Try again, or use a smaller image.",
  image_too_large: "The image is too large.",
  unsupported_image_format: "That file is not a PNG, JPEG or WebP image.",
  corrupt_image: "The image file is damaged or incomplete.",
  animated_image: "Animated images cannot be edited. Use a still image.",
  mask_size_mismatch: "The mask does not match the image. Reload the image and paint again.",
  empty_mask: "Paint over the area you want to change first.",
  invalid_for_model: "The model cannot do this edit as asked.",
  idempotency_key_reused: "This edit was already sent with different settings. Run it again.",
  parent_not_ready: "That result cannot be edited further.",
  model_access_denied: "This account has no access to the model.",
  bedrock_unavailable: "The image service is unavailable right now. Try again in a minute.",
  storage_unavailable: "Image storage is unavailable right now. Try again in a minute.",
  not_authenticated: "Your session has ended. Sign in again to continue.",
  authentication_failed: "Your session has ended. Sign in again to continue.",
  permission_denied: "The request was refused. Reload the page and try again.",
};
const SIGN_IN_CODES = new Set(["not_authenticated", "authentication_failed"]);

const els = {
  fileInput: $("#image-input"),
  chooseImage: $("#choose-image"),
  chooseAgain: $("#choose-image-again"),
  stage: $("#stage"),
  dropzone: $("#dropzone"),
  generatePlaceholder: $("#generate-placeholder"),
  scroll: $("#canvas-scroll"),
  box: $("#canvas-box"),
  baseImage: $("#base-image"),
  canvas: $("#mask-canvas"),
  cursor: $("#brush-cursor"),
  toolbar: $("#toolbar"),
  imageMeta: $("#image-meta"),
  stageHint: $("#stage-hint"),
  brushSize: $("#brush-size"),
  brushSizeValue: $("#brush-size-value"),
  toolBrush: $("#tool-brush"),
  toolEraser: $("#tool-eraser"),
  undo: $("#undo"),
  redo: $("#redo"),
  clearMask: $("#clear-mask"),
  invertMask: $("#invert-mask"),
  showMask: $("#show-mask"),
  zoomIn: $("#zoom-in"),
  zoomOut: $("#zoom-out"),
  zoomFit: $("#zoom-fit"),
  taskHelp: $("#task-help"),
  taskNote: $("#task-note"),
  prompt: $("#prompt"),
  promptLabel: $("#prompt-label"),
  promptCounter: $("#prompt-counter"),
  negative: $("#negative-prompt"),
  negativeCounter: $("#negative-counter"),
  search: $("#search-prompt"),
  model: $("#model"),
  modelNote: $("#model-note"),
  seed: $("#seed"),
  count: $("#count"),
  countNote: $("#count-note"),
  outputFormat: $("#output-format"),
  aspectRatio: $("#aspect-ratio"),
  run: $("#run"),
  progress: $("#progress"),
  progressText: $("#progress-text"),
  elapsed: $("#elapsed"),
  error: $("#error"),
  result: $("#result"),
  resultTitle: $("#result-title"),
  resultEngine: $("#result-engine"),
  compare: $("#compare"),
  compareRange: $("#compare-range"),
  afterImage: $("#after-image"),
  beforeImage: $("#before-image"),
  resultOutputs: $("#result-outputs"),
  download: $("#download"),
  continueButton: $("#continue"),
  detailsLink: $("#details-link"),
  engineNote: $("#engine-note"),
  filteredNote: $("#filtered-note"),
  params: $("#params"),
};

const state = {
  image: null, // {width, height, name, file?, parentId?, parentOutput?, objectUrl?}
  models: null, // the /api/v1/models answer
  busy: false,
  zoom: "fit", // "fit" or a number: screen pixels per image pixel
  result: null, // {edit, index, fetchedAt}
};

const painter = new MaskPainter(els.canvas, { onChange: updateMaskButtons });

// --- Small helpers --------------------------------------------------------------------------------

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not (plain-http LAN address, say).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const formatNumber = (n) => new Intl.NumberFormat().format(n);
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const megapixels = (pixels) => `${(pixels / 1e6).toFixed(1)} megapixels`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/** Call the JSON API with the session cookie and the CSRF token; throw ApiError on a 4xx/5xx. */
async function api(url, { method = "GET", body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": config.csrfToken, ...headers },
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check your connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // Not JSON: a proxy's error page (for example 413 from a gateway); fall through to the status.
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    const fallback = response.status === 413 ? "image_too_large" : `http_${response.status}`;
    const message = error.message ?? `The server answered ${response.status}.`;
    throw new ApiError(response.status, error.code ?? fallback, message, error.fields);
  }
  return { status: response.status, data };
}

function describeError(code, message) {
  const title = ERROR_TITLES[code];
  if (!title) return { title: message || "Something went wrong. Try again.", detail: "" };
  return { title, detail: message && message !== title ? message : "" };
}

function showError(titleOrError, detail = "") {
  let title = titleOrError;
  let signIn = false;
  if (titleOrError instanceof ApiError) {
    ({ title, detail } = describeError(titleOrError.code, titleOrError.message));
    signIn = SIGN_IN_CODES.has(titleOrError.code) || titleOrError.status === 401;
  }
  els.error.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = title;
  els.error.append(strong);
  if (detail) {
    const p = document.createElement("span");
    p.className = "alert-detail";
    p.textContent = detail;
    els.error.append(p);
  }
  if (signIn) {
    const link = document.createElement("a");
    link.href = `${config.signinUrl}?next=${encodeURIComponent(location.pathname)}`;
    link.textContent = "Sign in again";
    els.error.append(link);
  }
  els.error.hidden = false;
}

function hideError() {
  els.error.hidden = true;
  els.error.replaceChildren();
}

// --- Image loading --------------------------------------------------------------------------------

async function loadFile(file) {
  hideError();
  if (!file) return;
  if (!["image/png", "image/jpeg", "image/webp"].includes(file.type)) {
    showError(ERROR_TITLES.unsupported_image_format, `“${file.name}” is ${file.type || "an unknown type"}.`);
    return;
  }
  if (file.size > config.maxBytes) {
    showError(
      ERROR_TITLES.image_too_large,
      `This file is ${megabytes(file.size)}; the limit is ${megabytes(config.maxBytes)}. Save it smaller or as JPEG.`,
    );
    return;
  }
  const objectUrl = URL.createObjectURL(file);
  try {
    await setBaseImage({ url: objectUrl, name: file.name, file, objectUrl });
  } catch {
    URL.revokeObjectURL(objectUrl);
    showError("This file could not be read as an image.", `“${file.name}” may be damaged.`);
  }
}

/** Show an image as the base to paint on, sized by its natural (EXIF-oriented) resolution. */
async function setBaseImage({ url, name, file = null, parentId = null, parentOutput = 0, objectUrl = null }) {
  const probe = new Image();
  probe.src = url;
  await probe.decode();
  const width = probe.naturalWidth;
  const height = probe.naturalHeight;
  if (file && width * height > config.maxPixels) {
    URL.revokeObjectURL(objectUrl);
    showError(
      ERROR_TITLES.image_too_large,
      `This image is ${width} × ${height} (${megapixels(width * height)}); ` +
        `the limit is ${megapixels(config.maxPixels)}.`,
    );
    return;
  }
  if (state.image?.objectUrl) URL.revokeObjectURL(state.image.objectUrl);
  state.image = { width, height, name, file, parentId, parentOutput, objectUrl };
  els.baseImage.src = url;
  els.baseImage.alt = parentId ? `The result being edited further: ${name}` : `The image being edited: ${name}`;
  painter.reset(width, height);
  els.stage.style.setProperty("--image-aspect", `${width} / ${height}`);
  els.imageMeta.textContent = `${name} · ${width} × ${height}${parentId ? " · continuing a result" : ""}`;
  state.zoom = "fit";
  updateStage();
  if (currentTask() === "generate") selectTask("inpaint");
}

// --- Stage, zoom and tools ------------------------------------------------------------------------

function fitScale() {
  const { width, height } = state.image;
  const availableWidth = els.scroll.clientWidth - 2;
  const availableHeight = els.scroll.clientHeight - 2;
  return Math.max(0.02, Math.min(availableWidth / width, availableHeight / height));
}

function applyZoom() {
  if (!state.image) return;
  const scale = state.zoom === "fit" ? fitScale() : state.zoom;
  els.box.style.width = `${Math.round(state.image.width * scale)}px`;
  els.box.style.height = `${Math.round(state.image.height * scale)}px`;
  els.zoomFit.setAttribute("aria-pressed", String(state.zoom === "fit"));
}

function zoomBy(factor) {
  if (!state.image) return;
  const current = state.zoom === "fit" ? fitScale() : state.zoom;
  state.zoom = Math.min(8, Math.max(0.05, current * factor));
  applyZoom();
}

function updateStage() {
  const task = TASKS[currentTask()];
  const hasImage = Boolean(state.image);
  els.dropzone.hidden = hasImage || !task.image;
  els.generatePlaceholder.hidden = task.image;
  els.scroll.hidden = !hasImage || !task.image;
  els.stage.classList.toggle("has-image", hasImage && task.image);
  els.chooseAgain.hidden = !hasImage || !task.image;
  els.imageMeta.hidden = !hasImage || !task.image;
  els.toolbar.hidden = !hasImage || !task.mask;
  painter.enabled = Boolean(task.mask);
  els.canvas.classList.toggle("is-hidden", !task.mask || els.showMask.getAttribute("aria-pressed") !== "true");
  els.canvas.classList.toggle("is-paintable", Boolean(task.mask));
  els.stageHint.textContent = !hasImage || !task.image
    ? ""
    : task.mask
      ? "Paint over what should change. [ and ] change the brush size; Ctrl+Z undoes."
      : "This task uses the whole image: no painting needed.";
  if (hasImage && task.image) requestAnimationFrame(applyZoom);
}

function setTool(tool) {
  painter.tool = tool;
  els.toolBrush.setAttribute("aria-pressed", String(tool === "brush"));
  els.toolEraser.setAttribute("aria-pressed", String(tool === "eraser"));
}

function setBrushSize(size) {
  const value = Math.round(Math.min(Number(els.brushSize.max), Math.max(Number(els.brushSize.min), size)));
  els.brushSize.value = String(value);
  els.brushSizeValue.textContent = String(value);
  painter.brushSize = value;
  els.cursor.style.width = els.cursor.style.height = `${value}px`;
}

function updateMaskButtons() {
  els.undo.disabled = !painter.canUndo;
  els.redo.disabled = !painter.canRedo;
  els.clearMask.disabled = !painter.canUndo;
}

function moveCursor(event) {
  const rect = els.box.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  els.cursor.style.transform = `translate(${x}px, ${y}px) translate(-50%, -50%)`;
  els.cursor.hidden = !painter.enabled || event.pointerType === "touch";
  els.cursor.classList.toggle("is-eraser", painter.tool === "eraser");
}

// --- Task and model fields ------------------------------------------------------------------------

const currentTask = () => form.elements.task.value || "inpaint";

function selectTask(task) {
  const radio = $(`input[name=task][value="${task}"]`, form);
  if (radio && !radio.disabled) {
    radio.checked = true;
    updateTask();
  }
}

function currentFamily() {
  return state.models?.models.find((m) => m.family === els.model.value) ?? null;
}

function updateTask() {
  const name = currentTask();
  const task = TASKS[name];
  els.taskHelp.textContent = task.help;
  for (const field of $$("[data-field]", form)) {
    field.hidden = !task.fields.includes(field.dataset.field);
  }
  els.promptLabel.textContent = PROMPT_LABELS[task.prompt] ?? "Prompt";
  const label = $(`input[name=task][value="${name}"]`, form).closest("label").textContent.trim();
  els.run.textContent = `Run ${label.toLowerCase()}`;
  updateStage();
  updateCounters();
}

function updateModel() {
  const family = currentFamily();
  if (!family) return;
  const tasks = new Map(family.tasks.map((t) => [t.task, t]));
  const notes = new Map(); // note text -> task labels, so one sentence covers several tasks
  for (const radio of $$("input[name=task]", form)) {
    const info = tasks.get(radio.value);
    const label = radio.closest("label");
    const name = label.textContent.trim();
    radio.disabled = !info || !info.available;
    label.classList.toggle("is-disabled", radio.disabled);
    label.title = !info ? `${family.label} cannot do this task.` : (info.note ?? "");
    if (info && !info.available) {
      const note = info.note ?? "Not available here.";
      notes.set(note, [...(notes.get(note) ?? []), name]);
    }
  }
  els.taskNote.textContent = [...notes].map(([note, names]) => `${names.join(" and ")}: ${note}`).join(" ");
  els.taskNote.hidden = notes.size === 0;
  if ($(`input[name=task][value="${currentTask()}"]`, form).disabled) {
    const first = $$("input[name=task]", form).find((radio) => !radio.disabled);
    if (first) first.checked = true;
  }

  els.prompt.maxLength = family.prompt_limit;
  els.negative.maxLength = family.prompt_limit;
  els.search.maxLength = family.prompt_limit;
  const count = Number(els.count.value) || 1;
  els.count.replaceChildren(
    ...Array.from({ length: family.max_images }, (_, i) => new Option(String(i + 1), String(i + 1))),
  );
  els.count.value = String(Math.min(count, family.max_images));
  els.count.disabled = family.max_images === 1;
  els.countNote.textContent = family.max_images === 1 ? `${family.label} makes one image per request.` : "";
  els.modelNote.textContent = family.legacy
    ? "A legacy model: AWS is retiring it; prefer the default."
    : `Prompts up to ${formatNumber(family.prompt_limit)} characters.`;
  updateTask();
}

function updateCounters() {
  const limit = currentFamily()?.prompt_limit;
  for (const [input, counter] of [[els.prompt, els.promptCounter], [els.negative, els.negativeCounter]]) {
    counter.textContent = limit ? `${formatNumber(input.value.length)} / ${formatNumber(limit)}` : "";
    counter.classList.toggle("is-near", Boolean(limit) && input.value.length > limit * 0.9);
  }
}

async function loadModels() {
  try {
    const { data } = await api(config.modelsUrl);
    state.models = data;
    els.model.replaceChildren(
      ...data.models.map((m) => {
        const option = new Option(`${m.label}${m.legacy ? " (legacy)" : ""}${m.default ? " — default" : ""}`, m.family);
        option.selected = m.family === data.default;
        return option;
      }),
    );
    updateModel();
  } catch (error) {
    els.model.replaceChildren(new Option("Default model", ""));
    showError(error);
  }
}

// --- Running an edit ------------------------------------------------------------------------------

function validate() {
  const name = currentTask();
  const task = TASKS[name];
  const prompt = els.prompt.value;
  const limit = currentFamily()?.prompt_limit;
  if (task.image && !state.image) return ["Choose an image first.", els.chooseImage];
  if (task.mask && painter.isEmpty()) return ["Paint over the area you want to change first.", els.canvas];
  if (name === "replace" && !els.search.value.trim()) return ["Name the object to replace.", els.search];
  if (task.prompt === "required" && !prompt.trim()) return ["Describe what should appear in the prompt.", els.prompt];
  if (limit && prompt.length > limit) return [`The prompt is longer than ${formatNumber(limit)} characters.`, els.prompt];
  if (name === "outpaint") {
    const margins = ["left", "right", "up", "down"].map((side) => Number(form.elements[side].value) || 0);
    if (margins.some((m) => m < 0 || m > 2000)) {
      return ["Each margin must be between 0 and 2,000 pixels.", form.elements.left];
    }
    if (!margins.some((m) => m > 0)) return ["Set at least one margin above 0 pixels.", form.elements.up];
  }
  const seed = els.seed.value.trim();
  if (seed && !/^\d+$/.test(seed)) return ["The seed must be a whole number (or empty for random).", els.seed];
  return null;
}

async function buildBody() {
  const name = currentTask();
  const task = TASKS[name];
  const body = new FormData();
  body.set("task", name);
  if (els.model.value) body.set("model", els.model.value);
  if (task.fields.includes("prompt") && els.prompt.value.trim()) body.set("prompt", els.prompt.value);
  if (task.fields.includes("negative_prompt") && els.negative.value.trim()) {
    body.set("negative_prompt", els.negative.value);
  }
  if (name === "replace") body.set("search_prompt", els.search.value.trim());
  if (name === "outpaint") {
    for (const side of ["left", "right", "up", "down"]) body.set(side, String(Number(form.elements[side].value) || 0));
  }
  if (name === "generate") body.set("aspect_ratio", els.aspectRatio.value);
  if (els.seed.value.trim()) body.set("seed", els.seed.value.trim());
  if (!els.count.disabled) body.set("count", els.count.value);
  body.set("output_format", els.outputFormat.value);
  if (task.image) {
    if (state.image.parentId) {
      // The server reads the chosen result from storage itself: nothing is uploaded again.
      body.set("parent_id", state.image.parentId);
      body.set("parent_output", String(state.image.parentOutput));
    } else {
      body.set("image", state.image.file, state.image.file.name || "image");
    }
  }
  if (task.mask) body.set("mask", await painter.toBlob(), "mask.png");
  body.set("wait", "20"); // the server answers 202 if the model takes longer; then we poll
  return body;
}

let timer = null;

function setBusy(busy) {
  state.busy = busy;
  els.run.disabled = busy;
  els.run.setAttribute("aria-busy", String(busy));
  els.progress.hidden = !busy;
  clearInterval(timer);
  if (busy) {
    const started = performance.now();
    els.elapsed.textContent = "0.0 s";
    timer = setInterval(() => {
      els.elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 100);
  }
}

/** POST with one Idempotency-Key; a dropped connection is retried with the same key, so no duplicate. */
async function postEdit(body) {
  const key = uuid4();
  for (let attempt = 0; ; attempt++) {
    try {
      return await api(config.editsUrl, { method: "POST", body, headers: { "Idempotency-Key": key } });
    } catch (error) {
      if (error.code !== "network" || attempt >= 2) throw error;
      await sleep(1000 * (attempt + 1));
    }
  }
}

async function pollUntilDone(edit) {
  let failures = 0;
  while (edit.status === "PENDING" || edit.status === "RUNNING") {
    els.progressText.textContent = edit.status === "PENDING" ? "Queued…" : "The model is working…";
    try {
      ({ data: edit } = await api(`${config.editsUrl}/${edit.id}?wait=10`));
      failures = 0;
    } catch (error) {
      // The edit keeps running whatever happens to one poll: ride out network blips, throttling and
      // 5xx with a growing pause, so nobody presses Run again and pays for a second edit.
      const transient = error.code === "network" || error.status === 429 || error.status >= 500;
      if (!transient || ++failures > 6) throw error;
      await sleep(Math.min(2000 * failures, 10000));
    }
  }
  return edit;
}

async function runEdit(event) {
  event.preventDefault();
  if (state.busy) return; // a second click or Enter while running does nothing
  hideError();
  const problem = validate();
  if (problem) {
    showError(problem[0]);
    problem[1]?.focus?.();
    return;
  }
  setBusy(true);
  els.progressText.textContent = "Uploading and starting the edit…";
  let edit;
  try {
    const body = await buildBody();
    const { data } = await postEdit(body);
    edit = await pollUntilDone(data);
  } catch (error) {
    showError(error instanceof ApiError ? error : String(error?.message ?? error));
    els.error.focus();
    return;
  } finally {
    setBusy(false); // before showing the result: the progress box leaving shifts the layout
  }
  if (edit.status === "FAILED") {
    const { title, detail } = describeError(edit.error?.code, edit.error?.message);
    showError(title, detail);
    els.error.focus();
  } else {
    showResult(edit);
  }
}

// --- The result -----------------------------------------------------------------------------------

const TASK_NAMES = {
  inpaint: "Inpaint", erase: "Erase", outpaint: "Outpaint", remove_background: "Remove background",
  replace: "Replace", upscale: "Upscale", generate: "Generate",
};

const sentenceCase = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function engineLabel(engine) {
  if (!engine) return "";
  return engine === "bedrock" ? "Amazon Bedrock" : `Local engine (${engine})`;
}

function showResult(edit, index = 0) {
  state.result = { edit, index, fetchedAt: Date.now() };
  const output = edit.outputs[index];
  const name = TASK_NAMES[edit.task] ?? edit.task;
  els.afterImage.src = output.url;
  els.afterImage.alt = `After: the ${name.toLowerCase()} result${edit.prompt ? `, “${edit.prompt}”` : ""}`;
  els.compare.style.aspectRatio = `${output.width} / ${output.height}`;
  const hasBefore = Boolean(edit.input_url);
  els.compare.classList.toggle("has-before", hasBefore);
  els.compareRange.hidden = !hasBefore;
  if (hasBefore) els.beforeImage.src = edit.input_url;
  setComparePosition(Number(els.compareRange.value));

  els.resultOutputs.hidden = edit.outputs.length < 2;
  els.resultOutputs.replaceChildren(
    ...edit.outputs.map((each, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "output-thumb checker";
      button.setAttribute("aria-pressed", String(i === index));
      button.setAttribute("aria-label", `Result ${i + 1}`);
      const img = document.createElement("img");
      img.src = each.url;
      img.alt = "";
      button.append(img);
      button.addEventListener("click", () => showResult(edit, i));
      return button;
    }),
  );

  els.download.href = output.download_url;
  els.continueButton.textContent =
    edit.outputs.length > 1 ? `Continue editing result ${index + 1}` : "Continue editing this result";
  // From the server's URL map: under API Gateway every path carries the stage prefix.
  els.detailsLink.href = config.editUrlTemplate.replace("00000000-0000-0000-0000-000000000000", edit.id);
  els.resultEngine.textContent = engineLabel(edit.engine);
  els.resultEngine.hidden = !edit.engine;
  els.engineNote.hidden = !edit.engine_note;
  const engine = engineLabel(edit.engine).toLowerCase() || "engine";
  els.engineNote.textContent = edit.engine_note ? `Note from the ${engine}: ${edit.engine_note}.` : "";
  els.filteredNote.hidden = !edit.filtered_count;
  els.filteredNote.textContent = `${edit.filtered_count} image(s) were withheld by the content filter.`;

  const rows = [
    ["Task", name],
    ["Model", `${edit.model} · ${edit.model_id}`],
    ["Prompt", edit.prompt || "—"],
    ...(edit.negative_prompt ? [["Negative prompt", edit.negative_prompt]] : []),
    ...Object.entries(edit.parameters).map(([key, value]) => [sentenceCase(key), String(value)]),
    ...(output.seed != null ? [["Seed used", String(output.seed)]] : []),
    ["Size", `${output.width} × ${output.height}`],
    ...(edit.latency_ms != null ? [["Model time", `${(edit.latency_ms / 1000).toFixed(2)} s`]] : []),
    ...(edit.estimated_cost_usd != null ? [["Estimated cost", `$${edit.estimated_cost_usd.toFixed(3)}`]] : []),
    ...(edit.parent_id ? [["Continued from", edit.parent_id.slice(0, 8)]] : []),
  ];
  els.params.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }),
  );
  const wasHidden = els.result.hidden;
  els.result.hidden = false;
  if (wasHidden || index === 0) {
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    els.result.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "start" });
    els.resultTitle.focus({ preventScroll: true });
  }
}

function setComparePosition(percent) {
  els.compare.style.setProperty("--position", `${percent}%`);
}

/** Presigned URLs live minutes: refresh them before following an old one. */
async function freshResult() {
  const { edit, index, fetchedAt } = state.result;
  if (Date.now() - fetchedAt < 4 * 60 * 1000) return { edit, index };
  const { data } = await api(`${config.editsUrl}/${edit.id}`);
  state.result = { edit: data, index, fetchedAt: Date.now() };
  els.download.href = data.outputs[index].download_url;
  return { edit: data, index };
}

async function continueEditing() {
  hideError();
  try {
    const { edit, index } = await freshResult();
    const output = edit.outputs[index];
    const name = `result ${edit.id.slice(0, 8)}`;
    const label = edit.outputs.length > 1 ? `${name} (${index + 1})` : name;
    await setBaseImage({ url: output.url, name: label, parentId: edit.id, parentOutput: index });
    els.prompt.value = "";
    updateCounters();
    root.scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    if (error instanceof ApiError) showError(error);
    else showError("This result could not be loaded for editing.", String(error?.message ?? ""));
  }
}

async function loadContinueFrom(editId) {
  try {
    const { data: edit } = await api(`${config.editsUrl}/${encodeURIComponent(editId)}`);
    if (edit.status !== "SUCCEEDED" || !edit.outputs.length) {
      showError("That edit has no result to continue from.");
      return;
    }
    state.result = { edit, index: 0, fetchedAt: Date.now() };
    await setBaseImage({ url: edit.outputs[0].url, name: `result ${edit.id.slice(0, 8)}`, parentId: edit.id });
  } catch (error) {
    showError(error instanceof ApiError ? error : "That result could not be loaded.");
  }
}

// --- Wiring ---------------------------------------------------------------------------------------

els.chooseImage.addEventListener("click", () => els.fileInput.click());
els.chooseAgain.addEventListener("click", () => els.fileInput.click());
els.fileInput.addEventListener("change", () => {
  loadFile(els.fileInput.files[0]);
  els.fileInput.value = ""; // choosing the same file again still fires change
});

for (const type of ["dragenter", "dragover"]) {
  els.stage.addEventListener(type, (event) => {
    if (![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    els.stage.classList.add("is-dragging");
  });
}
els.stage.addEventListener("dragleave", (event) => {
  if (!els.stage.contains(event.relatedTarget)) els.stage.classList.remove("is-dragging");
});
els.stage.addEventListener("drop", (event) => {
  event.preventDefault();
  els.stage.classList.remove("is-dragging");
  loadFile(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
  if (file) {
    event.preventDefault();
    loadFile(file);
  }
});

els.toolBrush.addEventListener("click", () => setTool("brush"));
els.toolEraser.addEventListener("click", () => setTool("eraser"));
els.brushSize.addEventListener("input", () => setBrushSize(Number(els.brushSize.value)));
els.undo.addEventListener("click", () => painter.undo());
els.redo.addEventListener("click", () => painter.redo());
els.clearMask.addEventListener("click", () => painter.clear());
els.invertMask.addEventListener("click", () => painter.invert());
els.showMask.addEventListener("click", () => {
  const shown = els.showMask.getAttribute("aria-pressed") !== "true";
  els.showMask.setAttribute("aria-pressed", String(shown));
  updateStage();
});
els.zoomIn.addEventListener("click", () => zoomBy(1.25));
els.zoomOut.addEventListener("click", () => zoomBy(0.8));
els.zoomFit.addEventListener("click", () => {
  state.zoom = "fit";
  applyZoom();
});
new ResizeObserver(() => state.zoom === "fit" && applyZoom()).observe(els.scroll);

els.canvas.addEventListener("pointermove", moveCursor);
els.canvas.addEventListener("pointerenter", moveCursor);
els.canvas.addEventListener("pointerleave", () => (els.cursor.hidden = true));

const isTyping = (target) =>
  target instanceof HTMLTextAreaElement ||
  target instanceof HTMLSelectElement ||
  (target instanceof HTMLInputElement && !["range", "radio", "checkbox", "button"].includes(target.type));

document.addEventListener("keydown", (event) => {
  if (isTyping(event.target) || !state.image || !TASKS[currentTask()].mask) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "z") {
    event.preventDefault();
    event.shiftKey ? painter.redo() : painter.undo();
  } else if (mod && key === "y") {
    event.preventDefault();
    painter.redo();
  } else if (mod || event.altKey) {
    return;
  } else if (event.key === "[" || event.key === "]") {
    event.preventDefault();
    const size = Number(els.brushSize.value);
    setBrushSize(event.key === "]" ? Math.max(size + 2, size * 1.2) : Math.min(size - 2, size / 1.2));
  } else if (key === "b") setTool("brush");
  else if (key === "e") setTool("eraser");
  else if (event.key === "+" || event.key === "=") zoomBy(1.25);
  else if (event.key === "-") zoomBy(0.8);
  else if (event.key === "0") {
    state.zoom = "fit";
    applyZoom();
  }
});

form.addEventListener("change", (event) => {
  if (event.target.name === "task") updateTask();
  if (event.target === els.model) updateModel();
});
els.prompt.addEventListener("input", updateCounters);
els.negative.addEventListener("input", updateCounters);
form.addEventListener("submit", runEdit);

els.compareRange.addEventListener("input", () => setComparePosition(Number(els.compareRange.value)));
els.continueButton.addEventListener("click", continueEditing);
els.download.addEventListener("click", async (event) => {
  if (!state.result || Date.now() - state.result.fetchedAt < 4 * 60 * 1000) return; // still fresh
  event.preventDefault();
  try {
    await freshResult();
    location.href = els.download.href;
  } catch (error) {
    showError(error);
  }
});

setBrushSize(Number(els.brushSize.value));
updateMaskButtons();
updateTask();
loadModels();
if (config.continueFrom) loadContinueFrom(config.continueFrom);
