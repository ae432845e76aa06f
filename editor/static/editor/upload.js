// Direct uploads: the API offers a presigned POST, the browser sends the file straight to S3 with
// progress (percent and MB) and can cancel; the edit then names the upload by its id.

/** Guess the content type the browser left empty (Chrome on some systems says "" for .heic). */
export function contentTypeOf(file) {
  if (file.type) return file.type;
  const name = (file.name || "").toLowerCase();
  if (name.endsWith(".heic") || name.endsWith(".heif")) return "image/heic";
  if (name.endsWith(".jpg") || name.endsWith(".jpeg")) return "image/jpeg";
  if (name.endsWith(".png")) return "image/png";
  if (name.endsWith(".webp")) return "image/webp";
  return "application/octet-stream";
}

export class UploadCancelled extends Error {
  constructor() {
    super("The upload was cancelled.");
    this.code = "cancelled";
  }
}

function s3Message(xhr) {
  // S3 answers errors as XML: <Error><Code>EntityTooLarge</Code><Message>...</Message></Error>.
  const text = xhr.responseText || "";
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  return { code: code || `s3_${xhr.status}`, message: message || `Storage answered ${xhr.status}.` };
}

/** POST the file to S3 with the offered fields; resolve when stored. onProgress(loaded, total). */
function postToS3(offer, file, { onProgress, signal }) {
  return new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(offer.fields)) body.append(name, value);
    body.append("file", file, file.name || "photo"); // S3 wants the file last
    const xhr = new XMLHttpRequest();
    xhr.open("POST", offer.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else {
        const { code, message } = s3Message(xhr);
        const error = new Error(message);
        error.code = code;
        error.status = xhr.status;
        reject(error);
      }
    });
    xhr.addEventListener("error", () => {
      const error = new Error("The upload could not reach storage. Check your connection and try again.");
      error.code = "network";
      reject(error);
    });
    xhr.addEventListener("abort", () => reject(new UploadCancelled()));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Upload one file directly to storage; resolve with its upload_id.
 * `offer(contentType, size, filename)` asks the API for the presigned POST (POST /api/v1/uploads).
 */
export async function uploadDirect(file, { offer, onProgress, signal }) {
  if (signal?.aborted) throw new UploadCancelled();
  const offered = await offer(contentTypeOf(file), file.size, file.name || "");
  if (signal?.aborted) throw new UploadCancelled();
  await postToS3(offered, file, { onProgress, signal });
  return offered.upload_id;
}

/** "12.3 of 48.0 MB (25 %)" */
export function progressText(loaded, total) {
  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
  const percent = total ? Math.floor((loaded / total) * 100) : 0;
  return `${mb(loaded)} of ${mb(total)} MB (${percent} %)`;
}
