// The stage: the image to edit, the mask canvas over it, zoom, the mask tools and their keys.
import { cropBox, modelSize } from "./crop.js";
import { MaskPainter } from "./mask.js";
import { ApiError, api, uploadOffer } from "./api.js";
import { ERROR_TITLES, hideError, setBusy, setProgress, setUploadProgress, showError } from "./result.js";
import { $, config, currentFamily, state, taskRules } from "./state.js";
import { contentTypeOf, progressText, uploadDirect } from "./upload.js";

const PHOTO_TYPES = ["image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"];

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
  cropBox: $("#crop-box"),
  cropLabel: $("#crop-label"),
};

export const painter = new MaskPainter(els.canvas, { onChange: renderMaskButtons });

// Where validation sends the focus when the image or the mask is missing.
export const imageControl = els.chooseImage;
export const maskControl = els.canvas;

const hooks = { imageLoaded: () => {} };

/** Register what happens after a new base image is on the stage (the task may need to change). */
export function onImageLoaded(callback) {
  hooks.imageLoaded = callback;
}

// --- Image loading --------------------------------------------------------------------------------

const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const megapixels = (pixels) => `${(pixels / 1e6).toFixed(1)} megapixels`;

async function loadFile(file) {
  hideError();
  if (!file) return;
  const type = contentTypeOf(file);
  if (!PHOTO_TYPES.includes(type)) {
    showError(ERROR_TITLES.unsupported_image_format, `“${file.name}” is ${file.type || "an unknown type"}.`);
    return;
  }
  if (file.size > config.maxPhotoBytes) {
    showError(
      ERROR_TITLES.image_too_large,
      `This file is ${megabytes(file.size)}; the limit is ${megabytes(config.maxPhotoBytes)}.`,
    );
    return;
  }
  const objectUrl = URL.createObjectURL(file);
  try {
    await setBaseImage({ url: objectUrl, name: file.name, file, objectUrl });
  } catch {
    URL.revokeObjectURL(objectUrl);
    if (type === "image/heic" || type === "image/heif") await loadThroughServer(file);
    else showError("This file could not be read as an image.", `“${file.name}” may be damaged.`);
  }
}

/** A photo this browser cannot show (HEIC outside Safari): upload it now, show the server's preview. */
async function loadThroughServer(file) {
  const controller = new AbortController();
  state.upload = controller;
  setBusy(true);
  setProgress("This browser cannot show HEIC: uploading it for a preview…");
  try {
    const onProgress = (loaded, total) => {
      setProgress(`Uploading the photo for a preview: ${progressText(loaded, total)}`);
      setUploadProgress(loaded / total);
    };
    onProgress(0, file.size);
    const uploadId = await uploadDirect(file, { offer: uploadOffer, onProgress, signal: controller.signal });
    setUploadProgress(null);
    setProgress("Making a preview…");
    const { data } = await api(`${config.uploadsUrl}/${encodeURIComponent(uploadId)}/preview`, { method: "POST" });
    const size = { width: data.width, height: data.height };
    await setBaseImage({ url: data.url, name: file.name, file, uploadId, size });
  } catch (error) {
    if (error.code === "cancelled") showError("The upload was cancelled.");
    else showError(error instanceof ApiError ? error : "This HEIC photo could not be read.", "", { focus: true });
  } finally {
    state.upload = null;
    setUploadProgress(null);
    setBusy(false);
  }
}

/** Show an image as the base to paint on, sized by its natural (EXIF-oriented) resolution. */
export async function setBaseImage({
  url,
  name,
  file = null,
  parentId = null,
  parentOutput = 0,
  objectUrl = null,
  uploadId = null,
  size = null, // the photo's own size when `url` is a smaller preview of it
}) {
  const probe = new Image();
  probe.src = url;
  await probe.decode();
  const width = size?.width ?? probe.naturalWidth;
  const height = size?.height ?? probe.naturalHeight;
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
  state.image = { width, height, name, file, uploadId, parentId, parentOutput, objectUrl };
  els.baseImage.src = url;
  els.baseImage.alt = parentId ? `The result being edited further: ${name}` : `The image being edited: ${name}`;
  painter.reset(width, height);
  els.stage.style.setProperty("--image-aspect", `${width} / ${height}`);
  els.imageMeta.textContent = `${name} · ${width} × ${height}${parentId ? " · continuing a result" : ""}`;
  state.zoom = "fit";
  renderStage();
  hooks.imageLoaded();
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

function zoomToFit() {
  state.zoom = "fit";
  applyZoom();
}

/** Show the stage for the selected task; until the task rules arrive, an image shows without the mask. */
export function renderStage() {
  const task = taskRules() ?? { image: true, mask: false };
  const hasImage = Boolean(state.image);
  const showsImage = hasImage && task.image;
  els.dropzone.hidden = hasImage || !task.image;
  els.generatePlaceholder.hidden = task.image;
  els.scroll.hidden = !showsImage;
  els.stage.classList.toggle("has-image", showsImage);
  els.chooseAgain.hidden = !showsImage;
  els.imageMeta.hidden = !showsImage;
  els.toolbar.hidden = !hasImage || !task.mask;
  painter.enabled = Boolean(task.mask);
  els.showMask.setAttribute("aria-pressed", String(state.showMask));
  els.canvas.classList.toggle("is-hidden", !task.mask || !state.showMask);
  els.canvas.classList.toggle("is-paintable", Boolean(task.mask));
  els.stageHint.textContent = !showsImage
    ? ""
    : task.mask
      ? "Paint over what should change. [ and ] change the brush size; Ctrl+Z undoes."
      : "This task uses the whole image: no painting needed.";
  if (showsImage) requestAnimationFrame(applyZoom);
  renderCropBox();
}

function setTool(tool) {
  state.tool = tool;
  painter.tool = tool;
  els.toolBrush.setAttribute("aria-pressed", String(tool === "brush"));
  els.toolEraser.setAttribute("aria-pressed", String(tool === "eraser"));
}

function setBrushSize(size) {
  // The range's own min and max are the limits, so the markup states them once.
  const value = Math.round(Math.min(Number(els.brushSize.max), Math.max(Number(els.brushSize.min), size)));
  state.brushSize = value;
  els.brushSize.value = String(value);
  els.brushSizeValue.textContent = String(value);
  painter.brushSize = value;
  els.cursor.style.width = els.cursor.style.height = `${value}px`;
}

function renderMaskButtons() {
  els.undo.disabled = !painter.canUndo;
  els.redo.disabled = !painter.canRedo;
  els.clearMask.disabled = !painter.canUndo;
  renderCropBox();
}

/** Outline the part of the photo the model will see for a painted task (the server's crop rules). */
export function renderCropBox() {
  const limits = currentFamily()?.input_limits;
  const painted = state.image && taskRules()?.mask && limits ? painter.paintedBox() : null;
  const crop = painted && cropBox(state.image.width, state.image.height, painted, limits, config.cropPadding);
  els.cropBox.hidden = !crop;
  if (!crop) return;
  const [left, top, right, bottom] = crop;
  const { width, height } = state.image;
  Object.assign(els.cropBox.style, {
    left: `${(left / width) * 100}%`,
    top: `${(top / height) * 100}%`,
    width: `${((right - left) / width) * 100}%`,
    height: `${((bottom - top) / height) * 100}%`,
  });
  const [modelWidth, modelHeight] = modelSize(right - left, bottom - top, limits);
  const scaled = modelWidth < right - left ? `, at ${modelWidth} × ${modelHeight}` : "";
  els.cropLabel.textContent = `The model sees this ${right - left} × ${bottom - top} area${scaled}`;
}

function moveCursor(event) {
  const rect = els.box.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  els.cursor.style.transform = `translate(${x}px, ${y}px) translate(-50%, -50%)`;
  els.cursor.hidden = !painter.enabled || event.pointerType === "touch";
  els.cursor.classList.toggle("is-eraser", state.tool === "eraser");
}

const isTyping = (target) =>
  target instanceof HTMLTextAreaElement ||
  target instanceof HTMLSelectElement ||
  (target instanceof HTMLInputElement && !["range", "radio", "checkbox", "button"].includes(target.type));

function onKey(event) {
  if (isTyping(event.target) || !state.image || !taskRules()?.mask) return;
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
    const size = state.brushSize;
    setBrushSize(event.key === "]" ? Math.max(size + 2, size * 1.2) : Math.min(size - 2, size / 1.2));
  } else if (key === "b") setTool("brush");
  else if (key === "e") setTool("eraser");
  else if (event.key === "+" || event.key === "=") zoomBy(1.25);
  else if (event.key === "-") zoomBy(0.8);
  else if (event.key === "0") zoomToFit();
}

// --- Wiring ---------------------------------------------------------------------------------------

/** Listen to the stage's controls, the keys, drops and pastes; show the starting tool and brush. */
export function stageStart() {
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
    state.showMask = !state.showMask;
    renderStage();
  });
  els.zoomIn.addEventListener("click", () => zoomBy(1.25));
  els.zoomOut.addEventListener("click", () => zoomBy(0.8));
  els.zoomFit.addEventListener("click", zoomToFit);
  new ResizeObserver(() => state.zoom === "fit" && applyZoom()).observe(els.scroll);
  els.canvas.addEventListener("pointermove", moveCursor);
  els.canvas.addEventListener("pointerenter", moveCursor);
  els.canvas.addEventListener("pointerleave", () => (els.cursor.hidden = true));
  document.addEventListener("keydown", onKey);

  setTool(state.tool);
  setBrushSize(state.brushSize);
  renderMaskButtons();
  renderStage();
}
