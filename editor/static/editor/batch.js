// The batch page: the progress bar, counts, cost and time left follow the batch live; the grid of
// results is rendered by the server, so the page reloads (at most every 15 s) when new results exist.

const section = document.querySelector("[data-batch-url]");

function show(batch) {
  const percent = Math.round(batch.progress * 100);
  section.querySelector("[data-batch-bar]").value = percent;
  section.querySelector("[data-batch-percent]").textContent = `${percent}%`;
  section.querySelector("[data-batch-eta]").textContent =
    batch.eta_seconds ? `· about ${Math.round(batch.eta_seconds)} s left` : "";
  section.querySelector("[data-batch-cost]").textContent = `$${batch.cost_so_far_usd.toFixed(2)}`;
  for (const [state, count] of Object.entries(batch.counts)) {
    const cell = section.querySelector(`[data-count="${state}"]`);
    if (cell) cell.textContent = count;
  }
}

async function follow() {
  const shownResults = document.querySelectorAll(".history-grid .history-item").length;
  let lastReload = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    let batch;
    try {
      const response = await fetch(section.dataset.batchUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) continue;
      batch = await response.json();
    } catch {
      continue;
    }
    show(batch);
    const started = batch.total - (batch.counts.QUEUED || 0);
    const finished = batch.status !== "RUNNING";
    if (finished || (started > shownResults && shownResults < 100 && Date.now() - lastReload > 15000)) {
      lastReload = Date.now();
      location.reload();
      return;
    }
  }
}

if (section && section.dataset.batchRunning) follow();
