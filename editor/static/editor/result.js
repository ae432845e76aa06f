// What comes back: errors in words, the progress while an edit runs, and the before/after result.
import { ApiError, editGet } from "./api.js";
import { $, config, state, taskRules } from "./state.js";

// Error codes in words a person can act on; the server's own sentence follows as the detail.
export const ERROR_TITLES = {
  content_filtered: "The content filter blocked this edit. Try another prompt or image.",
  daily_quota_exceeded: "You have reached today's edit limit.",
  throttled: "The image service is busy right now. Wait a few seconds and try again.",
  model_timeout: "The model took too long to answer. Try again, or use a smaller image.",
  image_too_large: "The image is too large.",
  unsupported_image_format: "That file is not a JPEG, PNG, WebP or HEIC image.",
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
  routeNote: $("#route-note"),
  filteredNote: $("#filtered-note"),
  params: $("#params"),
};

// --- Errors ---------------------------------------------------------------------------------------

export function describeError(code, message) {
  const title = ERROR_TITLES[code];
  if (!title) return { title: message || "Something went wrong. Try again.", detail: "" };
  return { title, detail: message && message !== title ? message : "" };
}

/** Show a sentence (and a detail), or an ApiError in words; focus moves there when asked. */
export function showError(titleOrError, detail = "", { focus = false } = {}) {
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
  if (focus) els.error.focus();
}

export function hideError() {
  els.error.hidden = true;
  els.error.replaceChildren();
}

// --- Progress -------------------------------------------------------------------------------------

export function setBusy(busy) {
  state.busy = busy;
  els.run.disabled = busy;
  els.run.setAttribute("aria-busy", String(busy));
  els.progress.hidden = !busy;
  clearInterval(state.progressTimer);
  state.progressTimer = null;
  if (busy) {
    const started = performance.now();
    els.elapsed.textContent = "0.0 s";
    state.progressTimer = setInterval(() => {
      els.elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 100);
  }
}

export function setProgress(text) {
  els.progressText.textContent = text;
}

/** Show the upload's progress (0..1) with its Cancel button, or hide both (null). */
export function setUploadProgress(fraction) {
  const bar = $("#upload-progress");
  const cancel = $("#cancel-upload");
  bar.hidden = cancel.hidden = fraction === null;
  if (fraction !== null) bar.value = fraction;
}

// --- The result -----------------------------------------------------------------------------------

const sentenceCase = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** The engine that made an edit, in words: the server names its engine; a local one adds its variant. */
function engineLabel(edit) {
  if (!edit.engine || !state.engine) return "";
  return state.engine.local ? `${state.engine.label} (${edit.engine})` : state.engine.label;
}

export function showResult(edit, index = 0) {
  state.result = { edit, index, fetchedAt: Date.now() };
  const output = edit.outputs[index];
  const name = taskRules(edit.task)?.label ?? edit.task;
  els.afterImage.src = output.url;
  els.afterImage.alt = `After: the ${name.toLowerCase()} result${edit.prompt ? `, “${edit.prompt}”` : ""}`;
  els.compare.style.aspectRatio = `${output.width} / ${output.height}`;
  const hasBefore = Boolean(edit.input_url);
  els.compare.classList.toggle("has-before", hasBefore);
  els.compareRange.hidden = !hasBefore;
  // A HEIC input shows only in Safari: elsewhere "before" is the preview the stage shows of it.
  const heic = edit.image_reference?.endsWith(".heic") && $("#base-image").src;
  if (hasBefore) els.beforeImage.src = heic || edit.input_url;
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
  const engine = engineLabel(edit);
  els.resultEngine.textContent = engine;
  els.resultEngine.hidden = !engine;
  const notes = [];
  if (edit.engine_note) notes.push(`Note from the ${engine.toLowerCase() || "engine"}: ${edit.engine_note}.`);
  if (edit.model_size) {
    const { width, height } = edit.model_size;
    notes.push(`The model worked at ${width} × ${height}; the result is ${output.width} × ${output.height}.`);
  }
  els.engineNote.hidden = !notes.length;
  els.engineNote.textContent = notes.join(" ");
  els.routeNote.hidden = !edit.route_note;
  els.routeNote.textContent = edit.route_note ? `Another model ran: ${edit.route_note}` : "";
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

/** Whether the result's presigned URLs are still good: refreshed once four fifths of their life has gone. */
function resultFresh() {
  const lifetime = state.urlLifetimeSeconds;
  return Boolean(state.result && lifetime && Date.now() - state.result.fetchedAt < lifetime * 800);
}

/** The result with URLs that still work: fetched again from the server once they are getting old. */
export async function freshResult() {
  const { edit, index } = state.result;
  if (resultFresh()) return { edit, index };
  const { data } = await editGet(edit.id);
  state.result = { edit: data, index, fetchedAt: Date.now() };
  els.download.href = data.outputs[index].download_url;
  return { edit: data, index };
}

els.compareRange.addEventListener("input", () => setComparePosition(Number(els.compareRange.value)));
els.download.addEventListener("click", async (event) => {
  if (!state.result || resultFresh()) return; // still fresh: follow the link as it is
  event.preventDefault();
  try {
    await freshResult();
    location.href = els.download.href;
  } catch (error) {
    showError(error);
  }
});
