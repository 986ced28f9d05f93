// The /notifications/ page: add, test, switch and remove channels (managers), silence a metric
// (department heads and managers). Every action calls the API; the page is read again after a
// change (the server renders the lists), and field errors of a 400 are shown in place.

import { apiFetch } from "./common.js";

const scope = document.getElementById("notifications-page");

function showErrors(form, data) {
  const byField = data && typeof data === "object" && !Array.isArray(data) ? data : {};
  for (const holder of form.querySelectorAll("[data-error-for]")) {
    const messages = byField[holder.dataset.errorFor] || [];
    holder.replaceChildren(
      ...[].concat(messages).map((m) => {
        const p = document.createElement("p");
        p.className = "field__error";
        p.textContent = String(m);
        return p;
      }),
    );
  }
}

async function call(method, url, body) {
  return apiFetch(url, { method, body, csrfScope: scope });
}

function report(answer) {
  const box = document.getElementById("channels-error");
  if (!box) return;
  box.textContent = (answer.data && answer.data.detail) || `HTTP ${answer.status}`;
  box.hidden = false;
}

document.getElementById("channel-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const body = Object.fromEntries(new FormData(form).entries());
  if (!body.secret) delete body.secret;
  if (body.kind === "email") delete body.preset;
  const answer = await call("POST", "/api/notifications/channels/", body);
  if (answer.status === 201) window.location.reload();
  else if (answer.status === 400) showErrors(form, answer.data);
  else report(answer);
});

document.getElementById("channels-table")?.addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  button.disabled = true;
  let answer;
  if (button.dataset.test) {
    answer = await call("POST", `/api/notifications/channels/${button.dataset.test}/test/`, {});
    if (answer.status === 202) {
      button.textContent = button.textContent + " ✓";
      setTimeout(() => window.location.reload(), 2500);
      return;
    }
  } else if (button.dataset.toggle) {
    const enabled = button.dataset.enabled !== "true";
    answer = await call("PATCH", `/api/notifications/channels/${button.dataset.toggle}/`, { enabled });
  } else if (button.dataset.delete) {
    answer = await call("DELETE", `/api/notifications/channels/${button.dataset.delete}/`);
  }
  if (answer && answer.status < 300) window.location.reload();
  else if (answer) {
    button.disabled = false;
    report(answer);
  }
});

document.getElementById("silence-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const body = Object.fromEntries(new FormData(form).entries());
  const answer = await call("POST", "/api/alerts/silences/", body);
  if (answer.status === 201) window.location.reload();
  else showErrors(form, answer.data);
});

document.getElementById("silences-list")?.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-end]");
  if (!button) return;
  button.disabled = true;
  const answer = await call("POST", `/api/alerts/silences/${button.dataset.end}/end/`, {});
  if (answer.status === 200) window.location.reload();
  else button.disabled = false;
});
