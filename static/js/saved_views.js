// The header's "Views" menu on every page (templates/partials/saved_views_menu.html): save this
// page as it is now (its path and query string: every page keeps its state in the URL) under a
// name, maybe shared with colleagues and maybe as one's start page; open, copy the link of, pin,
// unpin or delete a saved view. The list is read from /api/views/ each time the menu opens.
// Translated labels come from the menu's data-label-* attributes.

import { apiFetch, button, el, translate } from "./common.js";

const API = "/api/views/";

const root = document.getElementById("views-menu");

if (root) setup(root);

function setup(menu) {
  const labels = menu.dataset;
  const t = (key, values) => translate(labels, key, values);
  const box = menu.querySelector("details");
  const list = menu.querySelector("[data-role=list]");
  const status = menu.querySelector("[data-role=status]");
  const dialog = document.getElementById("views-save");
  const form = document.getElementById("views-save-form");
  let loading = null;

  function say(text) {
    status.textContent = text || "";
  }

  function badge(text, cls) {
    return el("span", { cls: `views-menu__badge ${cls}`, txt: text });
  }

  function item(view) {
    const link = el("a", { cls: "views-menu__link", txt: view.name, attrs: { href: view.url } });
    const meta = el("span", { cls: "views-menu__meta" }, [
      view.mine ? null : el("span", { txt: t("labelBy", { owner: view.owner }) }),
      view.mine && view.shared ? badge(t("labelSharedBadge"), "views-menu__badge--shared") : null,
      view.pinned ? badge(t("labelStartPage"), "views-menu__badge--start") : null,
    ]);
    const actions = el("span", { cls: "views-menu__actions" }, [
      // Its link opens it for colleagues only while it is shared.
      view.shared
        ? button(t("labelCopy"), { cls: "views-menu__action", onClick: () => copy(view) })
        : null,
      button(view.pinned ? t("labelUnpin") : t("labelPin"), {
        cls: "views-menu__action",
        attrs: { "data-action": view.pinned ? "unpin" : "pin" },
        onClick: () => pin(view, !view.pinned),
      }),
      view.mine
        ? button(t("labelDelete"), {
            cls: "views-menu__action views-menu__delete",
            attrs: { "data-action": "delete" },
            onClick: () => remove(view),
          })
        : null,
    ]);
    return el("li", { cls: "views-menu__item", attrs: { "data-view": view.id } }, [
      el("span", { cls: "views-menu__what" }, [link, meta]),
      actions,
    ]);
  }

  function section(title, views) {
    if (views.length === 0) return null;
    return el("section", { cls: "views-menu__section" }, [
      el("h3", { cls: "views-menu__heading", txt: title }),
      el("ul", { cls: "views-menu__items" }, views.map(item)),
    ]);
  }

  function render(views) {
    const mine = views.filter((v) => v.mine);
    const shared = views.filter((v) => !v.mine);
    list.replaceChildren(
      ...(views.length === 0
        ? [el("p", { cls: "muted small", txt: t("labelEmpty") })]
        : [section(t("labelMine"), mine), section(t("labelShared"), shared)].filter(Boolean)),
    );
    list.setAttribute("aria-busy", "false");
  }

  async function load() {
    list.setAttribute("aria-busy", "true");
    if (!list.firstChild) list.replaceChildren(el("p", { cls: "muted small", txt: t("labelLoading") }));
    const answer = await apiFetch(API);
    if (answer.ok && Array.isArray(answer.data)) render(answer.data);
    else say(t("labelFailed"));
  }

  function refresh() {
    loading = load().finally(() => {
      loading = null;
    });
    return loading;
  }

  async function copy(view) {
    const url = new URL(view.share_url, window.location.origin).href;
    try {
      await navigator.clipboard.writeText(url);
      say(t("labelCopied", { url }));
    } catch {
      say(t("labelCopyHere", { url })); // no clipboard (not a secure context): shown to copy
    }
  }

  async function pin(view, on) {
    const answer = await apiFetch(`${API}${view.id}/pin/`, { method: on ? "POST" : "DELETE" });
    if (!answer.ok) {
      say(t("labelFailed"));
      return;
    }
    say(on ? t("labelPinned", { name: view.name }) : t("labelUnpinned"));
    await refresh();
  }

  async function remove(view) {
    if (!window.confirm(t("labelConfirmDelete", { name: view.name }))) return;
    const answer = await apiFetch(`${API}${view.id}/`, { method: "DELETE" });
    if (!answer.ok) {
      say(t("labelFailed"));
      return;
    }
    say(t("labelDeleted", { name: view.name }));
    await refresh();
  }

  // ---- the menu opens and closes like a menu ----------------------------------------------------

  box.addEventListener("toggle", () => {
    if (box.open && !loading) refresh();
  });
  document.addEventListener("click", (event) => {
    if (box.open && !menu.contains(event.target)) box.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && box.open && !dialog.open) {
      box.open = false;
      box.querySelector("summary").focus();
    }
  });

  // ---- "Save this view…" ---------------------------------------------------------------------

  function showErrors(errors) {
    const nameError = form.querySelector("[data-error=name]");
    const formError = form.querySelector("[data-error=form]");
    const name = errors.name ? errors.name.join(" ") : "";
    const other = Object.entries(errors)
      .filter(([field]) => field !== "name")
      .flatMap(([, messages]) => (Array.isArray(messages) ? messages : [String(messages)]));
    nameError.textContent = name;
    nameError.hidden = !name;
    form.elements.namedItem("name").closest(".field").classList.toggle("field--error", !!name);
    formError.textContent = other.join(" ");
    formError.hidden = other.length === 0;
  }

  menu.querySelector("[data-action=save]").addEventListener("click", () => {
    showErrors({});
    form.reset();
    // A suggestion: the page's own title (before " · Car-loan KPI").
    form.elements.namedItem("name").value = document.title.split(" · ")[0].trim().slice(0, 80);
    box.open = false;
    dialog.showModal();
    form.elements.namedItem("name").select();
  });

  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    const answer = await apiFetch(API, {
      method: "POST",
      body: {
        name: form.elements.namedItem("name").value,
        path: window.location.pathname,
        query: window.location.search.replace(/^\?/, ""),
        shared: form.elements.namedItem("shared").checked,
        pinned: form.elements.namedItem("pinned").checked,
      },
    });
    submit.disabled = false;
    if (answer.status === 201 && answer.data) {
      dialog.close();
      say(t("labelSaved", { name: answer.data.name }));
      box.open = true; // shows the new view in the list (the toggle reads it again)
      return;
    }
    showErrors(answer.status === 400 && answer.data ? answer.data : { detail: [t("labelFailed")] });
  });
}
