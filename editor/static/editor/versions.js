// The detail page's version tree: the before/after divider comparing this version with its parent.
const compare = document.querySelector("#version-compare");
if (compare) {
  compare.style.aspectRatio = `${compare.dataset.width} / ${compare.dataset.height}`;
  const range = document.querySelector("#version-compare-range");
  const move = () => compare.style.setProperty("--position", `${Number(range.value)}%`);
  range.addEventListener("input", move);
  move();
}
