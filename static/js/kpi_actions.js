// The review's decisions screen: record an action (department heads and managers). It goes to
// POST /api/kpi/reviews/{quarter}/actions/, which opens its card on the kanban; the screen is read
// again (the URL's hash keeps the screen), and a 400's messages are shown by their fields.

import { apiFetch } from "./common.js";

const form = document.getElementById("action-form");

function show(byField) {
  for (const holder of form.querySelectorAll("[data-error-for]")) {
    const messages = [].concat((byField && byField[holder.dataset.errorFor]) || []);
    holder.replaceChildren(
      ...messages.map((message) => {
        const p = document.createElement("p");
        p.className = "field__error";
        p.textContent = String(message);
        return p;
      }),
    );
  }
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = Object.fromEntries(new FormData(form).entries());
  delete body.csrfmiddlewaretoken;
  for (const name of ["owner", "metric"]) if (!body[name]) delete body[name];
  const submit = document.getElementById("action-submit");
  submit.disabled = true;
  const answer = await apiFetch(`/api/kpi/reviews/${form.dataset.quarter}/actions/`, {
    method: "POST",
    body,
    csrfScope: form,
  });
  submit.disabled = false;
  if (answer.status === 201) window.location.reload();
  else show(answer.data && typeof answer.data === "object" ? answer.data : { title: [`HTTP ${answer.status}`] });
});
