// The editor page's entry: load the task rules and models, wire the modules, run an edit, continue a result.
import { ApiError, api, editGet, editPollUntilDone, editPost } from "./api.js";
import { applyModels, buildBody, clearPrompt, fieldsStart, modelsFailed, selectImageTask, validate } from "./fields.js";
import {
  describeError,
  freshResult,
  hideError,
  setBusy,
  setProgress,
  setUploadProgress,
  showError,
  showResult,
} from "./result.js";
import { onImageLoaded, setBaseImage, stageStart } from "./stage.js";
import { $, config, state } from "./state.js";
import { progressText } from "./upload.js";

const root = $("#editor");

async function loadModels() {
  try {
    const { data } = await api(config.modelsUrl);
    applyModels(data);
  } catch (error) {
    modelsFailed();
    showError(error instanceof ApiError ? error : String(error?.message ?? error));
  }
}

/** Today's spend against the person's budget (GET usage); quiet if it cannot be read. */
async function loadUsage() {
  const line = $("#usage-today");
  try {
    const { data } = await api(config.usageUrl);
    const budget = data.limits.daily_budget_usd;
    const spent = `$${data.estimated_spend_usd.toFixed(2)}`;
    line.textContent =
      `Today: ${data.edits} of ${data.limits.daily_edits} edits, ${spent}` +
      (budget === null ? " estimated." : ` of your $${budget.toFixed(2)} daily budget.`);
    line.hidden = false;
  } catch {
    line.hidden = true;
  }
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
  setProgress("Starting the edit…");
  const controller = new AbortController();
  state.upload = controller;
  const onUpload = (loaded, total, what) => {
    setProgress(`Uploading the ${what}: ${progressText(loaded, total)}`);
    setUploadProgress(loaded / total);
  };
  let edit;
  try {
    let data;
    try {
      ({ data } = await editPost(await buildBody({ onUpload, signal: controller.signal })));
    } catch (error) {
      // An upload kept for the next edits may have expired meanwhile: send the photo again, once.
      if (!["upload_not_found", "upload_expired"].includes(error.code) || !state.image?.uploadId) throw error;
      state.image.uploadId = null;
      ({ data } = await editPost(await buildBody({ onUpload, signal: controller.signal })));
    }
    setUploadProgress(null);
    setProgress("Starting the edit…");
    edit = await editPollUntilDone(data, (status) =>
      setProgress(status === "PENDING" ? "Queued…" : "The model is working…"),
    );
  } catch (error) {
    if (error.code === "cancelled") showError("The upload was cancelled.", "Nothing was sent to the model.");
    else showError(error instanceof ApiError ? error : String(error?.message ?? error), "", { focus: true });
    return;
  } finally {
    state.upload = null;
    setUploadProgress(null);
    setBusy(false); // before showing the result: the progress box leaving shifts the layout
    loadUsage();
  }
  if (edit.status === "FAILED") {
    const { title, detail } = describeError(edit.error?.code, edit.error?.message);
    showError(title, detail, { focus: true });
  } else {
    showResult(edit);
  }
}

async function continueEditing() {
  hideError();
  try {
    const { edit, index } = await freshResult();
    const output = edit.outputs[index];
    const name = `result ${edit.id.slice(0, 8)}`;
    const label = edit.outputs.length > 1 ? `${name} (${index + 1})` : name;
    await setBaseImage({ url: output.url, name: label, parentId: edit.id, parentOutput: index });
    clearPrompt();
    root.scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    if (error instanceof ApiError) showError(error);
    else showError("This result could not be loaded for editing.", String(error?.message ?? ""));
  }
}

async function loadContinueFrom(editId) {
  try {
    const { data: edit } = await editGet(editId);
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

onImageLoaded(selectImageTask);
stageStart();
fieldsStart();
$("#edit-form").addEventListener("submit", runEdit);
$("#cancel-upload").addEventListener("click", () => state.upload?.abort());
$("#continue").addEventListener("click", continueEditing);
loadModels();
loadUsage();
if (config.continueFrom) loadContinueFrom(config.continueFrom);
