// The editor's one state object and the page's configuration: modules write state here and render from
// it; nothing is read back from the page, except what the person typed into the form.

const root = document.querySelector("#editor");
const form = document.querySelector("#edit-form");

export const config = {
  modelsUrl: root.dataset.modelsUrl,
  usageUrl: root.dataset.usageUrl,
  editsUrl: root.dataset.editsUrl,
  uploadsUrl: root.dataset.uploadsUrl,
  signinUrl: root.dataset.signinUrl,
  editUrlTemplate: root.dataset.editUrlTemplate,
  maxBytes: Number(root.dataset.maxBytes), // what may still go in the request itself (a small mask)
  maxPhotoBytes: Number(root.dataset.maxPhotoBytes), // a photo, uploaded straight to storage
  maxPixels: Number(root.dataset.maxPixels),
  cropPadding: { fraction: Number(root.dataset.cropPaddingFraction), min: Number(root.dataset.cropPaddingMin) },
  continueFrom: root.dataset.continueFrom,
  // From {% csrf_token %}: works even if the csrftoken cookie were made HttpOnly.
  csrfToken: form.querySelector("[name=csrfmiddlewaretoken]").value,
};

export const state = {
  // From GET /api/v1/models (null until it answers):
  tasks: null, // [{task, label, help, image, mask, prompt, search_prompt, fields}], in the page's order
  models: null, // [{family, label, legacy, default, max_images, prompt_limit, tasks: [{task, available, note?}]}]
  engine: null, // {local, label}
  urlLifetimeSeconds: null, // how long the server's presigned image URLs live
  modelsFailed: false, // GET /api/v1/models failed: the page cannot know the task rules
  // The person's choices:
  task: null, // the selected task's name
  family: null, // the selected model family
  tool: "brush", // "brush" or "eraser"
  brushSize: 40, // screen pixels
  showMask: true, // the mask overlay is visible
  zoom: "fit", // "fit" or a number: screen pixels per image pixel
  // What is on screen:
  image: null, // {width, height, name, file?, uploadId?, parentId?, parentOutput?, objectUrl?}
  upload: null, // the AbortController of the upload in progress
  busy: false, // an edit is being sent or polled
  progressTimer: null, // the interval that counts the elapsed seconds while busy
  result: null, // {edit, index, fetchedAt}
};

/** The rules of a task (the selected one by default), or null before the server has sent them. */
export const taskRules = (name = state.task) => state.tasks?.find((task) => task.task === name) ?? null;

/** The selected model family's description, or null before the server has sent them. */
export const currentFamily = () => state.models?.find((model) => model.family === state.family) ?? null;

/** Whether the selected family can do a task here (true while nothing is known yet). */
export function taskAvailable(name) {
  const family = currentFamily();
  if (!family) return true;
  const info = family.tasks.find((task) => task.task === name);
  return Boolean(info?.available);
}

export const $ = (selector, scope = document) => scope.querySelector(selector);
export const $$ = (selector, scope = document) => [...scope.querySelectorAll(selector)];
export const formatNumber = (n) => new Intl.NumberFormat().format(n);
