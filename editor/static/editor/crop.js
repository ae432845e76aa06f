// The crop the model will see of a mask-local edit (inpaint, erase): the same rules as the server's
// editor/services/imaging/regions.py crop_plan, so the page can outline it before anything is sent.

function grow(low, high, wanted, limit) {
  wanted = Math.min(wanted, limit);
  const extra = wanted - (high - low);
  if (extra <= 0) return [low, high];
  low -= Math.floor(extra / 2);
  high += extra - Math.floor(extra / 2);
  if (low < 0) [low, high] = [0, high - low];
  if (high > limit) [low, high] = [Math.max(0, low - (high - limit)), limit];
  return [low, high];
}

/**
 * The box [left, top, right, bottom] of the image sent to the model, or null if the painting is too long
 * and thin for it. `limits` is the family's input_limits from /api/v1/models; `padding` {fraction, min}.
 */
export function cropBox(imageWidth, imageHeight, maskBox, limits, padding) {
  let [left, top, right, bottom] = maskBox;
  const padX = Math.max(padding.min, Math.round((right - left) * padding.fraction));
  const padY = Math.max(padding.min, Math.round((bottom - top) * padding.fraction));
  left = Math.max(0, left - padX);
  right = Math.min(imageWidth, right + padX);
  top = Math.max(0, top - padY);
  bottom = Math.min(imageHeight, bottom + padY);
  if (limits?.max_aspect) {
    const aim = limits.max_aspect * 0.97;
    const w = right - left;
    const h = bottom - top;
    if (w / h > aim) [top, bottom] = grow(top, bottom, Math.ceil(w / aim), imageHeight);
    else if (h / w > aim) [left, right] = grow(left, right, Math.ceil(h / aim), imageWidth);
    const w2 = right - left;
    const h2 = bottom - top;
    if (Math.max(w2, h2) / Math.min(w2, h2) > limits.max_aspect) return null;
  }
  [left, right] = grow(left, right, limits?.min_side ?? 1, imageWidth);
  [top, bottom] = grow(top, bottom, limits?.min_side ?? 1, imageHeight);
  return [left, top, right, bottom];
}

/** The size the model works at for a box (scaled down to its pixel and side limits). */
export function modelSize(width, height, limits) {
  let scale = Math.min(1, Math.sqrt(limits.max_pixels / (width * height)));
  if (limits.max_side) scale = Math.min(scale, limits.max_side / Math.max(width, height));
  if (Math.min(width, height) * scale < limits.min_side) scale = limits.min_side / Math.min(width, height);
  return [Math.max(1, Math.floor(width * scale)), Math.max(1, Math.floor(height * scale))];
}
