// The form: task choice (rules from the server), model options, prompt counters, validation, the request.
import { uploadOffer } from "./api.js";
import { imageControl, maskControl, painter, renderStage } from "./stage.js";
import { $, $$, config, currentFamily, formatNumber, state, taskAvailable, taskRules } from "./state.js";
import { uploadDirect } from "./upload.js";

// Presentation only: what the prompt field is called for each of the server's prompt rules.
const PROMPT_LABELS = {
  required: "Prompt",
  optional: "Prompt (optional)",
  upscale: "Describe the image (needed above 1 megapixel)",
};
const MARGIN_SIDES = ["left", "right", "up", "down"];
// The tools' optional strengths (each shown only for the tools whose rule names it).
const STRENGTHS = ["creativity", "control_strength", "fidelity", "style_strength", "composition_fidelity", "change_strength"];

const form = $("#edit-form");
const els = {
  taskRadios: $$("input[name=task]", form),
  taskHelp: $("#task-help"),
  taskNote: $("#task-note"),
  taskNoteText: $("#task-note-text"),
  taskNoteLink: $("#task-note-link"),
  unavailable: $("#unavailable-tools"),
  unavailableList: $("#unavailable-list"),
  fields: $$("[data-field]", form),
  prompt: $("#prompt"),
  promptLabel: $("#prompt-label"),
  promptCounter: $("#prompt-counter"),
  negative: $("#negative-prompt"),
  negativeCounter: $("#negative-counter"),
  search: $("#search-prompt"),
  select: $("#select-prompt"),
  secondImage: $("[data-second-image]", form),
  styleImage: $("#style-image-input"),
  cost: $("#cost-estimate"),
  model: $("#model"),
  modelNote: $("#model-note"),
  seed: $("#seed"),
  count: $("#count"),
  countNote: $("#count-note"),
  outputFormat: $("#output-format"),
  aspectRatio: $("#aspect-ratio"),
  run: $("#run"),
};

// --- Task and model fields ------------------------------------------------------------------------

els.taskNoteLink.addEventListener("click", () => {
  els.unavailable.open = true; // the link opens the list it points at
});

/** Choose a task if the selected model can do it here (any task, while the rules are on their way). */
export function selectTask(name) {
  if (state.tasks && (!taskRules(name) || !taskAvailable(name))) return;
  state.task = name;
  renderTask();
}

/** After a new image: a task that needs none (generate) gives way to the first that edits an image. */
export function selectImageTask() {
  if (taskRules()?.image !== false) return;
  const first = state.tasks.find((task) => task.image && taskAvailable(task.task));
  if (first) selectTask(first.task);
}

/** Take the answer of GET /api/v1/models: task rules, model families, engine, URL lifetime. */
export function applyModels(data) {
  state.tasks = data.tasks;
  state.models = data.models;
  state.engine = data.engine;
  state.urlLifetimeSeconds = data.url_lifetime_seconds;
  state.family = data.default;
  state.task ??= data.tasks[0].task;
  els.model.replaceChildren(
    ...data.models.map((m) => {
      const status = m.retired ? " (retired)" : m.legacy ? " (legacy)" : "";
      const option = new Option(`${m.label}${status}${m.default ? " — default" : ""}`, m.family);
      option.selected = m.family === data.default;
      return option;
    }),
  );
  renderModel();
}

/** The models could not be loaded: remember it; the select says so (the caller shows the error). */
export function modelsFailed() {
  state.modelsFailed = true;
  els.model.replaceChildren(new Option("Default model", ""));
}

function renderTask() {
  const task = taskRules();
  if (!task) return;
  for (const radio of els.taskRadios) radio.checked = radio.value === state.task;
  els.taskHelp.textContent = task.help;
  for (const field of els.fields) field.hidden = !task.fields.includes(field.dataset.field);
  els.secondImage.hidden = !task.second_image;
  // A tool that gives the same image every time is asked for one (the server refuses more).
  const family = currentFamily();
  const single = task.candidates === false || (family?.max_images ?? 1) === 1;
  els.count.disabled = single;
  if (task.candidates === false) els.count.value = "1";
  els.promptLabel.textContent = PROMPT_LABELS[task.prompt] ?? "Prompt";
  els.run.textContent = `Run ${task.label.toLowerCase()}`;
  renderStage();
  renderCounters();
  renderCost();
}

/** The estimated cost before running: images x the tool's price per image (an estimate, not a bill). */
function renderCost() {
  const info = currentFamily()?.tasks.find((t) => t.task === state.task);
  if (!info || info.usd_per_image === undefined) {
    els.cost.textContent = "";
    return;
  }
  const count = Number(els.count.value) || 1;
  const total = (count * info.usd_per_image).toFixed(2);
  const from = taskRules()?.prompt === "upscale" ? "from " : "";
  els.cost.textContent = `Estimated cost: ${from}$${total} (${count} × $${info.usd_per_image.toFixed(2)} per image).`;
}

/** One short line when tools are off here (the local engine), with a link to the list of which and why. */
function renderUnavailable(off) {
  const needsBedrock = state.engine?.local ? " They need Amazon Bedrock; the local engine cannot run them." : "";
  els.taskNoteText.textContent = `${off.length} ${off.length === 1 ? "tool is" : "tools are"} off here.${needsBedrock}`;
  els.unavailableList.replaceChildren(
    ...off.map(([name, why]) => {
      const item = document.createElement("li");
      item.textContent = `${name}: ${why}`;
      return item;
    }),
  );
  els.taskNote.hidden = els.unavailable.hidden = off.length === 0;
  if (!off.length) els.unavailable.open = false;
}

function renderModel() {
  const family = currentFamily();
  if (!family) return;
  const off = []; // [task label, why], for the list behind the one-line note
  for (const radio of els.taskRadios) {
    const info = family.tasks.find((t) => t.task === radio.value);
    const label = radio.closest("label");
    radio.disabled = !info || !info.available;
    label.classList.toggle("is-disabled", radio.disabled);
    label.title = !info ? `${family.label} cannot do this task.` : (info.note ?? "");
    if (info && !info.available) off.push([taskRules(radio.value)?.label ?? radio.value, info.note ?? "Not available here."]);
  }
  renderUnavailable(off);
  if (!taskAvailable(state.task)) {
    const first = state.tasks.find((task) => taskAvailable(task.task));
    if (first) state.task = first.task;
  }

  els.prompt.maxLength = family.prompt_limit;
  els.negative.maxLength = family.prompt_limit;
  els.search.maxLength = family.prompt_limit;
  els.select.maxLength = family.prompt_limit;
  const count = Number(els.count.value) || 1;
  els.count.replaceChildren(
    ...Array.from({ length: family.max_images }, (_, i) => new Option(String(i + 1), String(i + 1))),
  );
  els.count.value = String(Math.min(count, family.max_images));
  els.count.disabled = family.max_images === 1;
  els.countNote.textContent = family.max_images === 1 ? `${family.label} makes one image per request.` : "";
  const endOfLife = family.end_of_life ? ` (end of life ${family.end_of_life})` : "";
  els.modelNote.textContent = family.retired
    ? `Retired${endOfLife}: AWS no longer runs it; choose the default.`
    : family.legacy
      ? `A legacy model${endOfLife}: AWS is retiring it; prefer the default.`
      : `Prompts up to ${formatNumber(family.prompt_limit)} characters.`;
  renderTask();
}

function renderCounters() {
  const limit = currentFamily()?.prompt_limit;
  for (const [input, counter] of [[els.prompt, els.promptCounter], [els.negative, els.negativeCounter]]) {
    counter.textContent = limit ? `${formatNumber(input.value.length)} / ${formatNumber(limit)}` : "";
    counter.classList.toggle("is-near", Boolean(limit) && input.value.length > limit * 0.9);
  }
}

/** Empty the prompt (continuing a result starts a new description). */
export function clearPrompt() {
  els.prompt.value = "";
  renderCounters();
}

// --- Validation and the request -------------------------------------------------------------------

const margins = () => MARGIN_SIDES.map((side) => [side, Number(form.elements[side].value) || 0]);

/** The first problem with the form as [sentence, control to focus], or null when it can be sent. */
export function validate() {
  const task = taskRules();
  if (!task && state.modelsFailed) return ["The editor could not load its tasks. Reload the page.", null];
  if (!task) return ["The editor is still loading its tasks. Try again in a moment.", null];
  const prompt = els.prompt.value;
  const limit = currentFamily()?.prompt_limit;
  if (task.image && !state.image) return ["Choose an image first.", imageControl];
  if (task.mask && painter.isEmpty()) return ["Paint over the area you want to change first.", maskControl];
  if (task.search_prompt && !els.search.value.trim()) return ["Name the object to replace.", els.search];
  if (task.select_prompt && !els.select.value.trim()) return ["Name the object to recolour.", els.select];
  if (task.second_image && !els.styleImage.files.length) return ["Choose the style image.", els.styleImage];
  for (const name of STRENGTHS) {
    const input = form.elements[name];
    if (!task.fields.includes(name) || input.value.trim() === "") continue;
    const value = Number(input.value);
    if (!(value >= Number(input.min) && value <= Number(input.max))) {
      return [`${input.labels[0].firstChild.textContent.trim()} must be between ${input.min} and ${input.max}.`, input];
    }
  }
  if (task.prompt === "required" && !prompt.trim()) return ["Describe what should appear in the prompt.", els.prompt];
  if (limit && prompt.length > limit) return [`The prompt is longer than ${formatNumber(limit)} characters.`, els.prompt];
  if (task.fields.includes("margins")) {
    const values = margins().map(([, value]) => value);
    if (values.some((m) => m < 0 || m > 2000)) {
      return ["Each margin must be between 0 and 2,000 pixels.", form.elements.left];
    }
    if (!values.some((m) => m > 0)) return ["Set at least one margin above 0 pixels.", form.elements.up];
  }
  const seed = els.seed.value.trim();
  if (seed && !/^\d+$/.test(seed)) return ["The seed must be a whole number (or empty for random).", els.seed];
  return null;
}

/**
 * The multipart body of POST /api/v1/edits: only the fields the selected task uses. A new photo goes
 * straight to storage first (once: its upload_id serves the next edits too); a mask too large for the
 * request goes the same way. onUpload(loaded, total, what) hears the progress; `signal` cancels.
 */
export async function buildBody({ onUpload, signal } = {}) {
  const task = taskRules();
  const body = new FormData();
  body.set("task", task.task);
  if (state.family) body.set("model", state.family);
  if (task.fields.includes("prompt") && els.prompt.value.trim()) body.set("prompt", els.prompt.value);
  if (task.fields.includes("negative_prompt") && els.negative.value.trim()) {
    body.set("negative_prompt", els.negative.value);
  }
  if (task.search_prompt) body.set("search_prompt", els.search.value.trim());
  if (task.select_prompt) body.set("select_prompt", els.select.value.trim());
  for (const name of STRENGTHS) {
    const value = form.elements[name].value.trim();
    if (task.fields.includes(name) && value !== "") body.set(name, value);
  }
  if (task.second_image) body.set("style_image", els.styleImage.files[0], els.styleImage.files[0].name || "style");
  if (task.fields.includes("margins")) {
    for (const [side, value] of margins()) body.set(side, String(value));
  }
  if (task.fields.includes("aspect_ratio")) body.set("aspect_ratio", els.aspectRatio.value);
  if (els.seed.value.trim()) body.set("seed", els.seed.value.trim());
  if ((currentFamily()?.max_images ?? 1) > 1) body.set("count", els.count.value);
  body.set("output_format", els.outputFormat.value);
  if (task.image) {
    if (state.image.parentId) {
      // The server reads the chosen result from storage itself: nothing is uploaded again.
      body.set("parent_id", state.image.parentId);
      body.set("parent_output", String(state.image.parentOutput));
    } else {
      if (!state.image.uploadId) {
        const progress = (loaded, total) => onUpload?.(loaded, total, "photo");
        progress(0, state.image.file.size); // shows the bar and its Cancel button before the first byte
        state.image.uploadId = await uploadDirect(state.image.file, { offer: uploadOffer, onProgress: progress, signal });
      }
      body.set("upload_id", state.image.uploadId);
    }
  }
  if (task.mask) {
    const mask = await painter.toBlob();
    if (mask.size > config.maxBytes) {
      const file = new File([mask], "mask.png", { type: "image/png" });
      const progress = (loaded, total) => onUpload?.(loaded, total, "mask");
      body.set("mask_upload_id", await uploadDirect(file, { offer: uploadOffer, onProgress: progress, signal }));
    } else {
      body.set("mask", mask, "mask.png");
    }
  }
  body.set("wait", "20"); // the server answers 202 if the model takes longer; then we poll
  return body;
}

/** Listen to the task radios, the model select and the prompts. */
export function fieldsStart() {
  form.addEventListener("change", (event) => {
    if (event.target.name === "task") selectTask(event.target.value);
    if (event.target === els.model) {
      state.family = els.model.value;
      renderModel();
    }
    if (event.target === els.count) renderCost();
  });
  els.prompt.addEventListener("input", renderCounters);
  els.negative.addEventListener("input", renderCounters);
}
