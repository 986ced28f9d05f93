// The card drawer of the shared board (/kanban/): one card's details, its editor (department
// heads and managers), checklist, links, comments and history; `?card=<id>` in the URL opens it.
//
// Changes by others never clobber what the viewer is editing: an open card keeps the fields
// being edited and says who changed what (syncDrawer); saving sends only the edited fields with
// the version each was seen at (field-level locking on the server merges the rest), and a 409
// shows theirs beside mine, to keep theirs or apply mine on top.

import { button, el } from "../common.js";
import { EDITABLE, editBody, fieldValue, followChange, openCard, placeCard, splitLabels } from "./state.js";
import {
  api,
  CAN_EDIT,
  columnName,
  config,
  departmentName,
  failure,
  fieldLabel,
  formatDay,
  formatTime,
  laneName,
  metricName,
  number1,
  S,
  t,
  text,
  toast,
  typeName,
  who,
  whoChanged,
} from "./page.js";
import { ageing, drawSpark, dropCard, repaint, showAnswer } from "./render.js";

const drawer = document.getElementById("kb-drawer");
const backdrop = document.getElementById("kb-backdrop");
const drawerBody = document.getElementById("kb-drawer-body");
const drawerNotice = document.getElementById("kb-drawer-notice");

function setCardParam(id) {
  const params = new URLSearchParams(window.location.search);
  if (id) params.set("card", id);
  else params.delete("card");
  const query = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
}

export function openDrawer(id) {
  const card = S.cards.get(id);
  if (!card) return;
  S.drawer = openCard(card, document.activeElement);
  drawerNotice.textContent = "";
  drawer.hidden = false;
  backdrop.hidden = false;
  renderDrawer(card);
  loadComments(id);
  loadHistory(id);
  setCardParam(id);
  drawer.focus();
}

function closeDrawer() {
  if (!S.drawer) return;
  const back = S.drawer.returnFocus;
  S.drawer = null;
  drawer.hidden = true;
  backdrop.hidden = true;
  drawerBody.textContent = "";
  setCardParam(null);
  if (back && back.isConnected) back.focus({ preventScroll: true });
}

/** Close by its button, the backdrop, or Escape (unless a card is lifted by keyboard or the
 * new-card dialog is open: Escape is theirs then). */
export function setupDrawer({ newDialog } = {}) {
  document.getElementById("kb-drawer-close")?.addEventListener("click", closeDrawer);
  backdrop?.addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && S.drawer && !(S.busy && S.busy.kind === "keys") && !(newDialog && newDialog.open)) {
      closeDrawer();
    }
  });
}

/** Acknowledge the card's alert (the same as on the dashboard): who took it shows in place. */
function acknowledgeButton(alertId) {
  const note = el("span", { cls: "kb-ack__note", attrs: { "aria-live": "polite" } });
  const button = el("button", {
    cls: "button button--secondary button--small",
    txt: t("acknowledgeAlert"),
    attrs: { type: "button", "data-acknowledge": String(alertId) },
  });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { status, data } = await api("POST", `/api/alerts/${alertId}/acknowledge/`, {});
    const alert = status === 200 ? data : status === 409 && data ? data.current : null;
    if (alert && alert.acknowledged_by) {
      button.hidden = true;
      note.textContent = t("alertTakenBy", { who: alert.acknowledged_by });
    } else {
      button.disabled = false;
      note.textContent = failure(status, data);
    }
  });
  return el("p", { cls: "kb-ack" }, [button, " ", note]);
}

function drawerHead(card) {
  const lane = S.laneById.get(card.lane);
  const column = S.columnById.get(card.column);
  const type = document.getElementById("kb-drawer-type");
  type.textContent = "";
  type.append(el("span", { cls: `kb-type kb-type--${card.type}`, txt: typeName(card.type) }));
  document.getElementById("kb-drawer-id").textContent = `#${card.id} · ${t("version", { n: card.version })}`;
  document.getElementById("kb-drawer-place").textContent = `${laneName(lane)} · ${columnName(column)}`;
  document.getElementById("kb-drawer-title").textContent = card.title;
}

function section(title, children, { cls = "" } = {}) {
  return el("section", { cls: `kb-section ${cls}` }, [el("h3", { txt: title }), ...children]);
}

function fieldRow(label, control, name) {
  const id = `d-${name}`;
  control.id = id;
  return el("div", { cls: "field kb-field", attrs: { "data-field": name } }, [el("label", { txt: label, attrs: { for: id } }), control]);
}

function editorFor(name, card) {
  if (name === "description") {
    const area = el("textarea", { attrs: { name, rows: "5" } });
    area.value = card.description;
    return area;
  }
  if (name === "pillar") {
    // The strategy pillar the work builds (the budget split of the parameters); none by default.
    const options = [["", text.noPillar || "—"], ...Object.entries(config.pillars || {})];
    const select = el("select", { attrs: { name } }, options.map(([key, label]) => el("option", { txt: label, attrs: { value: key } })));
    select.value = card.pillar || "";
    return select;
  }
  if (name === "type" || name === "department") {
    const options = name === "type" ? config.types : config.departments;
    const select = el("select", { attrs: { name } }, Object.entries(options).map(([key, label]) => el("option", { txt: label, attrs: { value: key } })));
    select.value = card[name];
    return select;
  }
  if (name === "assignees") {
    const box = el("div", { cls: "kb-people", attrs: { role: "group", "data-name": "assignees" } });
    const chosen = new Set(card.assignees.map((a) => a.id));
    for (const user of config.users || []) {
      const input = el("input", { attrs: { type: "checkbox", value: user.id, name: "assignees" } });
      input.checked = chosen.has(user.id);
      box.append(el("label", { cls: "kb-person" }, [input, el("span", { txt: user.username })]));
    }
    return box;
  }
  const input = el("input", { attrs: { type: name === "due_date" ? "date" : "text", name, autocomplete: "off" } });
  input.value = fieldValue(card, name);
  return input;
}

function formValue(name) {
  const form = document.getElementById("kb-edit");
  if (!form) return undefined;
  if (name === "assignees") {
    return [...form.querySelectorAll("input[name=assignees]:checked")].map((i) => Number(i.value)).sort((a, b) => a - b);
  }
  const field = form.elements.namedItem(name);
  if (!field) return undefined;
  if (name === "labels") return splitLabels(field.value);
  if (name === "due_date") return field.value || null;
  return field.value;
}

function setFormValue(name, card) {
  const form = document.getElementById("kb-edit");
  if (!form) return;
  if (name === "assignees") {
    const chosen = new Set(card.assignees.map((a) => a.id));
    for (const input of form.querySelectorAll("input[name=assignees]")) input.checked = chosen.has(Number(input.value));
    return;
  }
  const field = form.elements.namedItem(name);
  if (field) field.value = fieldValue(card, name);
}

function renderDrawer(card) {
  drawerHead(card);
  drawerBody.textContent = "";
  const lane = S.laneById.get(card.lane);
  const facts = el("dl", { cls: "kb-facts" });
  const fact = (label, value, cls = "") => {
    if (value === null || value === undefined || value === "") return;
    facts.append(el("dt", { txt: label }), el("dd", { cls, txt: value }));
  };
  const age = ageing(card);
  fact(text.owner_ || "Owner", departmentName(card.department));
  fact(text.laneLabel || t("lane"), laneName(lane));
  fact(text.dueLabel || "Due", card.due_date ? formatDay(card.due_date) : "", card.overdue ? "is-overdue" : "");
  fact(text.ageLabel || "Age", age.title, card.ageing ? "is-ageing" : "");
  fact(text.createdLabel || "Created", t("createdBy", { who: card.created_by || t("system"), date: formatTime(card.created_at) }));
  drawerBody.append(facts);

  if (card.metric) {
    const spark = el("div", { cls: "kb-spark kb-spark--large", attrs: { "data-metric": card.metric, "data-region": card.region || "all", role: "img", "aria-label": t("sparkline", { metric: metricName(card.metric) }) } });
    const link = el("a", { txt: `${metricName(card.metric)} · ${card.region || t("allRegions")}`, attrs: { href: `/metrics/${encodeURIComponent(card.metric)}/` } });
    const take = card.alert && CAN_EDIT ? acknowledgeButton(card.alert) : null;
    drawerBody.append(section(card.alert ? t("alertOf", { id: card.alert, metric: metricName(card.metric) }) : metricName(card.metric), [link, spark, take], { cls: "kb-section--alert" }));
    drawSpark(spark, { height: 140, axes: true });
  }

  if (CAN_EDIT) {
    const form = el("form", { cls: "form kb-edit", attrs: { id: "kb-edit", novalidate: "" } });
    const labels = {
      title: text.titleLabel || "Title",
      type: text.typeLabel || "Type",
      pillar: text.pillarLabel || "Strategy pillar",
      department: text.departmentLabel || "Owning department",
      due_date: text.dueLabel || "Due date",
      labels: text.labelsLabel || "Labels",
      assignees: text.assigneesLabel || "Assignees",
      description: text.descriptionLabel || "Description",
    };
    const grid = el("div", { cls: "kb-form-grid" });
    form.append(fieldRow(labels.title, editorFor("title", card), "title"));
    for (const name of ["type", "pillar", "department", "due_date", "labels"]) grid.append(fieldRow(labels[name], editorFor(name, card), name));
    form.append(grid, fieldRow(labels.description, editorFor("description", card), "description"));
    form.append(fieldRow(labels.assignees, editorFor("assignees", card), "assignees"));
    const conflict = el("div", { attrs: { id: "kb-conflict" } });
    const save = el("button", { cls: "button button--primary", txt: t("save"), attrs: { type: "submit", id: "kb-save", disabled: "" } });
    const revert = button(t("cancel"), { cls: "button--quiet button--small", attrs: { id: "kb-revert" }, onClick: () => revertEdits() });
    form.append(conflict, el("div", { cls: "form__actions" }, [save, revert]));
    const markDirty = (event) => {
      const name = event.target.name;
      if (!name || !EDITABLE.includes(name) || !S.drawer) return;
      S.drawer.dirty.add(name);
      save.disabled = false;
    };
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveEdits();
    });
    drawerBody.append(section(text.detailsLabel || "Details", [form]));
  } else {
    if (card.description) drawerBody.append(section(text.descriptionLabel || "Description", [el("p", { cls: "kb-description", txt: card.description })]));
    const people = card.assignees.map((a) => a.username).join(t("listJoin")) || t("unassigned");
    drawerBody.append(section(text.assigneesLabel || "Assignees", [el("p", { txt: people })]));
    if (card.labels.length) drawerBody.append(section(text.labelsLabel || "Labels", [el("ul", { cls: "kb-labels" }, card.labels.map((l) => el("li", { cls: "kb-label", txt: l })))]));
  }

  drawerBody.append(section(text.checklistLabel || t("fieldChecklist"), [el("div", { attrs: { id: "kb-checklist" } })]));
  renderChecklist(card);
  drawerBody.append(section(t("links"), [el("div", { attrs: { id: "kb-links" } })]));
  renderLinks(card);
  drawerBody.append(section(t("comments_"), [el("div", { attrs: { id: "kb-comments" } })]));
  drawerBody.append(section(t("history"), [el("div", { attrs: { id: "kb-history" } })]));
  if (CAN_EDIT) {
    drawerBody.append(
      el("div", { cls: "kb-drawer__footer" }, [
        button(t("archive"), { cls: "button--danger button--small", attrs: { id: "kb-archive" }, onClick: () => archiveCard(card.id) }),
      ]),
    );
  }
}

// ---- checklist, links, comments, history --------------------------------------------------------

function renderChecklist(card) {
  const box = document.getElementById("kb-checklist");
  if (!box) return;
  box.textContent = "";
  const list = el("ul", { cls: "kb-checklist" });
  card.checklist.forEach((item, index) => {
    const input = el("input", { attrs: { type: "checkbox", disabled: CAN_EDIT ? null : "", "data-index": index } });
    input.checked = Boolean(item.done);
    input.addEventListener("change", () => changeChecklist((items) => {
      const same = items.find((x) => x.text === item.text);
      if (same) same.done = input.checked;
      return items;
    }));
    const row = el("li", { cls: item.done ? "is-done" : "" }, [el("label", {}, [input, el("span", { txt: item.text })])]);
    if (CAN_EDIT) {
      row.append(el("button", { cls: "kb-x", txt: "×", attrs: { type: "button", "aria-label": `${t("removeLink")}: ${item.text}` } }));
      row.lastChild.addEventListener("click", () => changeChecklist((items) => items.filter((x) => x.text !== item.text)));
    }
    list.append(row);
  });
  if (!card.checklist.length) box.append(el("p", { cls: "muted small", txt: t("checklistEmpty") }));
  const done = card.checklist.filter((x) => x.done).length;
  if (card.checklist.length) {
    const progress = el("div", { cls: "kb-progress", attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": card.checklist.length, "aria-valuenow": done } }, [el("span")]);
    progress.firstChild.style.width = `${(done / card.checklist.length) * 100}%`;
    box.append(progress);
  }
  box.append(list);
  if (CAN_EDIT) {
    const input = el("input", { attrs: { type: "text", placeholder: t("checklistAdd"), "aria-label": t("checklistAdd"), maxlength: "200" } });
    const add = button(t("checklistAdd"), {
      onClick: () => {
        const value = input.value.trim();
        if (!value) return;
        changeChecklist((items) => (items.some((x) => x.text === value) ? items : [...items, { text: value, done: false }]));
        input.value = "";
      },
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        add.click();
      }
    });
    box.append(el("div", { cls: "kb-inline" }, [input, add]));
  }
}

/** Change the checklist with `edit(items)`; a 409 (someone else changed it) re-applies the same
 * edit to their list and tries again once. */
async function changeChecklist(edit) {
  if (!S.drawer) return;
  const id = S.drawer.id;
  let card = S.cards.get(id);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const items = edit(card.checklist.map((x) => ({ ...x })));
    const { status, data } = await api("PATCH", `/api/kanban/cards/${id}/`, { checklist: items, version: card.version });
    if (status === 200) {
      showAnswer(data);
      if (S.drawer && S.drawer.id === id) renderChecklist(S.cards.get(id));
      if (attempt) toast(t("merged"), "ok");
      return;
    }
    if (status === 409 && data && data.card) {
      showAnswer(data.card, { force: true });
      card = data.card;
      continue;
    }
    toast(failure(status, data), "error");
    break;
  }
  if (S.drawer && S.drawer.id === id) renderChecklist(S.cards.get(id));
}

function renderLinks(card) {
  const box = document.getElementById("kb-links");
  if (!box) return;
  box.textContent = "";
  if (!card.links.length) box.append(el("p", { cls: "muted small", txt: t("noLinks") }));
  const list = el("ul", { cls: "kb-links" });
  for (const link of card.links) {
    const other = S.cards.get(link.to);
    const label = other ? `#${other.id} ${other.title}` : t("unknownCard", { id: link.to });
    const target = el("a", { txt: label, attrs: { href: `?card=${link.to}` } });
    target.addEventListener("click", (event) => {
      if (!other) return;
      event.preventDefault();
      openDrawer(other.id);
    });
    const row = el("li", {}, [el("span", { cls: `kb-link-kind kb-link-kind--${link.kind}`, txt: t(link.kind) }), target]);
    if (CAN_EDIT) {
      row.append(button(t("removeLink"), {
        cls: "button--quiet button--small",
        onClick: async () => {
          const { status, data } = await api("DELETE", `/api/kanban/cards/${card.id}/links/${link.id}/`);
          if (status !== 204) toast(failure(status, data), "error");
          else refreshCard(card.id);
        },
      }));
    }
    list.append(row);
  }
  box.append(list);
  if (CAN_EDIT) {
    const kind = el("select", { attrs: { "aria-label": t("links") } }, [
      el("option", { txt: t("blocks"), attrs: { value: "blocks" } }),
      el("option", { txt: t("relates"), attrs: { value: "relates" } }),
    ]);
    const to = el("input", { attrs: { type: "number", min: "1", placeholder: t("linkTo"), "aria-label": t("linkTo") } });
    const add = button(t("addLink"), {
      onClick: async () => {
        const target = Number(to.value);
        if (!target) return;
        const { status, data } = await api("POST", `/api/kanban/cards/${card.id}/links/`, { to: target, kind: kind.value });
        if (status !== 201) toast(failure(status, data), "error");
        else {
          to.value = "";
          refreshCard(card.id);
        }
      },
    });
    box.append(el("div", { cls: "kb-inline" }, [kind, to, add]));
  }
}

/** The card as the server has it now (after a link was added or removed), kept at its place
 * on the board. */
async function refreshCard(id) {
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/`);
  if (status !== 200) return;
  const known = S.cards.get(id);
  repaint(placeCard(S, data, known ? S.order.get(S.where.get(id)).indexOf(id) : data.position));
  if (S.drawer && S.drawer.id === id) {
    renderLinks(data);
    drawerHead(data);
  }
}

async function loadComments(id) {
  const box = document.getElementById("kb-comments");
  if (!box) return;
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/comments/`);
  if (!S.drawer || S.drawer.id !== id) return;
  const typed = box.querySelector("textarea");
  const draft = typed ? typed.value : "";
  const hadFocus = typed && document.activeElement === typed;
  box.textContent = "";
  const list = el("ol", { cls: "kb-comments" });
  for (const comment of status === 200 ? data : []) {
    list.append(el("li", {}, [
      el("div", { cls: "kb-comment__head" }, [el("strong", { txt: comment.author || t("system") }), el("time", { txt: formatTime(comment.created_at), attrs: { datetime: comment.created_at } })]),
      el("p", { txt: comment.text }),
    ]));
  }
  if (!list.children.length) box.append(el("p", { cls: "muted small", txt: t("noComments") }));
  box.append(list);
  if (CAN_EDIT) {
    const area = el("textarea", { attrs: { rows: "2", placeholder: t("commentPlaceholder"), "aria-label": t("addComment"), maxlength: "5000" } });
    area.value = draft; // a comment being typed survives a refresh
    const add = button(t("addComment"), {
      cls: "button--primary button--small",
      onClick: async () => {
        const value = area.value.trim();
        if (!value) return;
        add.disabled = true;
        const answer = await api("POST", `/api/kanban/cards/${id}/comments/`, { text: value });
        add.disabled = false;
        if (answer.status === 201) {
          area.value = "";
          loadComments(id);
        } else toast(failure(answer.status, answer.data), "error");
      },
    });
    box.append(el("div", { cls: "kb-comment-form" }, [area, add]));
    if (hadFocus) area.focus();
  }
}

function historyLine(item) {
  const place = (laneId, columnId) => `${laneName(S.laneById.get(laneId))} · ${columnName(S.columnById.get(columnId))}`;
  if (item.kind === "created") return t("created_", { lane: laneName(S.laneById.get(item.to_lane)), column: columnName(S.columnById.get(item.to_column)) });
  if (item.kind === "moved") return t("moved", { from: place(item.from_lane, item.from_column), to: place(item.to_lane, item.to_column) });
  if (item.kind === "deleted") return t("deleted");
  const fields = Object.keys(item.changes || {}).map(fieldLabel).join(t("listJoin"));
  return t("edited", { fields });
}

async function loadHistory(id) {
  const box = document.getElementById("kb-history");
  if (!box) return;
  const { status, data } = await api("GET", `/api/kanban/cards/${id}/history/`);
  if (!S.drawer || S.drawer.id !== id || status !== 200) return;
  box.textContent = "";
  if (data.time_in_columns && data.time_in_columns.length) {
    const total = data.time_in_columns.reduce((sum, x) => sum + x.hours, 0) || 1;
    const bar = el("div", { cls: "kb-timebar", attrs: { "aria-label": t("timeInColumns") } });
    data.time_in_columns.forEach((part, index) => {
      const seg = el("span", { cls: `kb-timebar__seg kb-timebar__seg--${index % 5}`, attrs: { title: `${columnName(S.columnById.get(part.column) || { name: part.name })}: ${part.hours >= 48 ? t("days", { n: number1.format(part.hours / 24) }) : t("hours", { n: number1.format(part.hours) })}` } });
      seg.style.flexGrow = String(Math.max(part.hours / total, 0.02));
      bar.append(seg);
    });
    const legend = el("ul", { cls: "kb-timebar__legend" }, data.time_in_columns.map((part, index) => el("li", {}, [
      el("span", { cls: `kb-timebar__key kb-timebar__seg--${index % 5}`, attrs: { "aria-hidden": "true" } }),
      `${columnName(S.columnById.get(part.column) || { name: part.name })} ${part.hours >= 48 ? t("days", { n: number1.format(part.hours / 24) }) : t("hours", { n: number1.format(part.hours) })}`,
    ])));
    box.append(el("h4", { txt: t("timeInColumns") }), bar, legend);
  }
  if (data.cycle_time_days !== null && data.cycle_time_days !== undefined) {
    box.append(el("p", { cls: "small", txt: t("cycleTime", { n: number1.format(data.cycle_time_days) }) }));
  }
  const list = el("ol", { cls: "kb-history" });
  for (const item of [...data.items].reverse()) {
    const row = el("li", { cls: item.is_handoff ? "is-handoff" : "" }, [
      el("span", { cls: "kb-history__what", txt: historyLine(item) }),
      item.is_handoff ? el("span", { cls: "kb-handoff-badge", txt: t("handoff") }) : null,
      el("span", { cls: "kb-history__meta", txt: `${formatTime(item.at)} · ${t("by", { who: item.by || t("system") })}` }),
    ]);
    list.append(row);
  }
  if (!data.items.length) box.append(el("p", { cls: "muted small", txt: t("historyEmpty") }));
  box.append(list);
}

// ---- live changes of the open card --------------------------------------------------------------

/** A live change of the open card: what is not being edited follows it; what is, stays, with
 * a notice. `by` null: not a live event (a snapshot). */
export function syncDrawer(card, by, changed, mine = false) {
  const { edited, clashing, follow } = followChange(S.drawer, card, by, changed, mine);
  drawerHead(card);
  for (const name of follow) setFormValue(name, card);
  if (changed.includes("checklist")) renderChecklist(card);
  if (changed.includes("links")) renderLinks(card);
  if (changed.includes("comments")) loadComments(card.id);
  if (!CAN_EDIT && edited.length) {
    // Read-only view: nothing is being edited, show the card as it is.
    renderDrawer(card);
    loadComments(card.id);
  }
  loadHistory(card.id);
  if (!mine && clashing.length) {
    drawerNotice.textContent = "";
    const names = clashing.map(fieldLabel).join(t("listJoin"));
    drawerNotice.append(el("div", { cls: "notice notice--warn kb-notice" }, [el("p", { txt: t("changedWhileEditing", { who: who(by), fields: names }) })]));
  }
}

/** The open card was archived or deleted: say by whom, and nothing can be changed any more. */
export function drawerGone(by) {
  drawerNotice.textContent = "";
  drawerNotice.append(el("p", { cls: "notice notice--error", txt: t("deletedWhileOpen", { who: who(by) }) }));
  for (const control of drawerBody.querySelectorAll("input, select, textarea, button")) control.disabled = true;
}

// ---- editing ------------------------------------------------------------------------------------

function revertEdits() {
  if (!S.drawer) return;
  const card = S.cards.get(S.drawer.id);
  for (const name of S.drawer.dirty) {
    setFormValue(name, card);
    S.drawer.seen[name] = card.version;
  }
  S.drawer.dirty.clear();
  document.getElementById("kb-save").disabled = true;
  document.getElementById("kb-conflict").textContent = "";
  drawerNotice.textContent = "";
}

async function saveEdits({ over = false } = {}) {
  const state = S.drawer;
  if (!state || !state.dirty.size) return;
  const id = state.id;
  const body = editBody(state, formValue);
  const save = document.getElementById("kb-save");
  save.disabled = true;
  save.textContent = t("saving");
  const { status, data } = await api("PATCH", `/api/kanban/cards/${id}/`, body);
  save.textContent = t("save");
  if (!S.drawer || S.drawer.id !== id) return;
  const conflictBox = document.getElementById("kb-conflict");
  conflictBox.textContent = "";
  if (status === 200) {
    const merged = Boolean(state.othersChanged);
    state.othersChanged = false;
    showAnswer(data);
    state.dirty.clear();
    for (const name of [...EDITABLE, "checklist"]) {
      setFormValue(name, data);
      state.seen[name] = data.version;
    }
    drawerHead(data);
    drawerNotice.textContent = "";
    toast(merged || over ? t("merged") : t("saved"), "ok");
    loadHistory(id);
    return;
  }
  save.disabled = false;
  if (status === 409 && data && data.card) {
    showAnswer(data.card, { force: true });
    drawerHead(data.card);
    const fields = (data.fields || []).filter((name) => state.dirty.has(name));
    const by = await whoChanged(id);
    const names = fields.map(fieldLabel).join(t("listJoin"));
    const list = el("ul", { cls: "kb-conflict__list" });
    for (const name of fields) {
      const theirs = fieldValue(data.card, name);
      const mineValue = body[name];
      const show = (value) => (Array.isArray(value) ? (name === "assignees" ? value.map((uid) => (config.users.find((u) => u.id === uid) || { username: uid }).username).join(", ") : value.join(", ")) : String(value ?? "")) || "–";
      list.append(el("li", {}, [el("strong", { txt: `${fieldLabel(name)}: ` }), el("span", { txt: show(theirs) }), el("span", { cls: "muted", txt: ` — ${t("yourValue", { value: show(mineValue) })}` })]));
    }
    conflictBox.append(el("div", { cls: "kb-conflict", attrs: { role: "alert" } }, [
      el("strong", { cls: "kb-conflict__title", txt: t("conflictTitle") }),
      el("p", { txt: t("conflictBody", { who: by, fields: names }) }),
      list,
      el("div", { cls: "kb-conflict__actions" }, [
        button(t("keepTheirs"), {
          onClick: () => {
            for (const name of fields) {
              state.dirty.delete(name);
              setFormValue(name, data.card);
              state.seen[name] = data.card.version;
            }
            conflictBox.textContent = "";
            if (state.dirty.size) saveEdits();
            else document.getElementById("kb-save").disabled = true;
          },
        }),
        button(t("applyMine"), {
          cls: "button--primary button--small",
          onClick: () => {
            for (const name of state.dirty) state.seen[name] = data.card.version;
            saveEdits({ over: true });
          },
        }),
      ]),
    ]));
    return;
  }
  conflictBox.append(el("p", { cls: "notice notice--error", txt: t("badInput", { message: failure(status, data) }) }));
}

async function archiveCard(id) {
  const card = S.cards.get(id);
  if (!card || !window.confirm(t("archiveConfirm"))) return;
  const { status, data } = await api("DELETE", `/api/kanban/cards/${id}/?version=${card.version}`);
  if (status === 200) {
    repaint(dropCard(id));
    closeDrawer();
    toast(t("archived", { id }), "ok");
  } else if (status === 409 && data && data.card) {
    showAnswer(data.card, { force: true });
    toast(t("moveConflict", { who: await whoChanged(id), id }), "error");
  } else toast(failure(status, data), "error");
}
