// History and detail pages: local times, a confirmation before deleting, and live status of running edits.

// Times are rendered in UTC by the server; show them in the reader's own time zone.
const formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
for (const time of document.querySelectorAll("time[datetime]")) {
  const date = new Date(time.dateTime);
  if (!Number.isNaN(date.getTime())) {
    time.title = time.textContent.trim();
    time.textContent = formatter.format(date);
  }
}

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// A running edit is long-polled through the API; the page reloads once it has finished, so the
// server renders the final state (and fresh image URLs) instead of this script patching it in.
async function waitForEdit(url) {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      const response = await fetch(`${url}?wait=10`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const edit = await response.json();
      if (edit.status !== "PENDING" && edit.status !== "RUNNING") {
        location.reload();
        return;
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

const running = document.querySelector("[data-active-edit]");
if (running) waitForEdit(running.dataset.activeEdit);
