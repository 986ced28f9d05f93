// Bulk changes of the /parameters/ page: the budget split (its three shares edited together, they
// must sum to 100 %) and the budget presets (applied in one step, the current one marked).
//   PATCH / {changes: [{key, value, version}], reason} → 200 {parameters} | 400 | 409 {current}
//   POST presets/{name}/apply/ {reason, versions} → 200 {parameters, changed}
// The versions sent are the ones this page holds: a change made meanwhile elsewhere answers 409,
// it is not lost.

import { button, el } from "../common.js";
import { conflictPrompt, parseValue } from "./editors.js";
import { API, handleAnswer } from "./responses.js";
import { budgetParams, presetIsCurrent } from "./state.js";
import { paintBar, receiveParameters } from "./tables.js";
import { showErrors, toast } from "./ui.js";

// ---- Budget split: three shares edited together ---------------------------------------------

export function openBudgetEditor(page) {
  const { t } = page;
  const { formatNumber, formatPct, formatValue, relativeTime } = page.fmt;
  if (!page.isManager || page.budgetEditor) return;
  const slot = document.getElementById("budget-editor-slot");
  const params = budgetParams(page.state, page.budgetKeys);
  if (!slot || params.length !== 3) return;
  const versions = Object.fromEntries(params.map((p) => [p.key, p.version]));
  const inputs = params.map((param, index) => {
    const id = `budget-${index}`;
    const input = el("input", {
      attrs: { id, type: "text", inputmode: "decimal", autocomplete: "off", "data-key": param.key },
    });
    input.value = String(param.value);
    return {
      param,
      input,
      field: el("div", { cls: "field budget-editor__field" }, [
        el("label", { attrs: { for: id } }, [
          el("span", { cls: `budget-swatch budget-swatch--${index + 1}`, attrs: { "aria-hidden": "true" } }),
          page.label(param.key),
        ]),
        el("div", { cls: "param-editor__input" }, [input, el("span", { cls: "param-editor__unit", txt: "%" })]),
      ]),
    };
  });
  const bar = el("div", { cls: "budget-bar budget-bar--preview", attrs: { "aria-hidden": "true" } }, [
    el("span", { cls: "budget-bar__seg budget-bar__seg--1" }),
    el("span", { cls: "budget-bar__seg budget-bar__seg--2" }),
    el("span", { cls: "budget-bar__seg budget-bar__seg--3" }),
  ]);
  const sum = el("p", { cls: "budget-editor__sum", attrs: { id: "budget-sum", "aria-live": "polite" } });
  const reason = el("input", {
    attrs: { type: "text", id: "budget-reason", placeholder: t("reasonPlaceholder"), maxlength: "2000", autocomplete: "off" },
  });
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const notice = el("div", { cls: "param-editor__notice", attrs: { "aria-live": "polite" } });
  const conflict = el("div", { cls: "param-editor__conflict" });
  const save = button(t("saveSplit"), { cls: "button--primary", attrs: { id: "budget-save" } });
  const cancel = button(t("cancel"), { attrs: { id: "budget-cancel" } });
  const form = el("form", { cls: "param-editor budget-editor", attrs: { novalidate: "" } }, [
    el("div", { cls: "budget-editor__fields" }, inputs.map((i) => i.field)),
    bar,
    sum,
    el("div", { cls: "field" }, [el("label", { txt: t("reason"), attrs: { for: "budget-reason" } }), reason]),
    el("div", { cls: "param-editor__buttons" }, [save, cancel]),
    error,
    notice,
    conflict,
  ]);
  slot.replaceChildren(form);
  document.getElementById("budget-edit")?.setAttribute("hidden", "");
  const close = () => closeBudgetEditor(page);

  function values() {
    return inputs.map(({ param, input }) => parseValue(page, param, input.value));
  }
  function refresh() {
    const parsed = values();
    const numbers = parsed.map((p) => (p.error ? NaN : p.value));
    paintBar(page, bar, numbers);
    const total = numbers.reduce((a, b) => a + b, 0);
    const ok = numbers.every(Number.isFinite) && Math.abs(total - 100) <= 1e-6;
    sum.className = `budget-editor__sum ${ok ? "is-ok" : "is-off"}`;
    sum.replaceChildren(
      el("span", { txt: `${t("total")}: ` }),
      el("strong", { txt: Number.isFinite(total) ? formatPct(total, 2) : "—", attrs: { id: "budget-sum-value" } }),
      " ",
      el("span", {
        cls: `badge ${ok ? "badge--ok" : "badge--error"}`,
        txt: ok ? t("sumOk") : t("sumMustBe100", { total: Number.isFinite(total) ? formatNumber(total, 2) : "—" }),
      }),
    );
    // page.budgetEditor, not this editor: the one open now (as the page has always read it).
    save.disabled = !ok || page.budgetEditor.busy;
    return { parsed, ok };
  }
  async function submit() {
    const { parsed, ok } = refresh();
    const bad = parsed.find((p) => p.error);
    if (bad) {
      showErrors(error, [bad.error]);
      return;
    }
    if (!ok) return;
    error.replaceChildren();
    conflict.replaceChildren();
    page.budgetEditor.busy = true;
    save.disabled = true;
    const changes = inputs.map(({ param }, index) => ({
      key: param.key,
      value: parsed[index].value,
      version: versions[param.key],
    }));
    const response = await page.api("PATCH", API, { changes, reason: reason.value });
    page.budgetEditor.busy = false;
    refresh();
    handleAnswer(response, t, {
      ok({ data }) {
        receiveParameters(page, data.parameters || []);
        close();
        renderPresets(page);
        toast(t("splitSaved"), "ok");
      },
      conflict({ current }) {
        receiveParameters(page, current);
        notice.replaceChildren();
        const shares = budgetParams(page.state, page.budgetKeys);
        const latest = shares.reduce((a, b) => ((a.updated_at || "") > (b.updated_at || "") ? a : b));
        conflict.replaceChildren(
          conflictPrompt(page, {
            who: latest.updated_by || t("system"),
            value: shares.map((p) => formatValue(p)).join(" / "),
            version: latest.version,
            when: latest.updated_at ? relativeTime(latest.updated_at) : "",
            mine: parsed.map((p, i) => formatValue(inputs[i].param, p.value)).join(" / "),
            onKeep: close,
            onApply: () => {
              for (const param of budgetParams(page.state, page.budgetKeys)) versions[param.key] = param.version;
              conflict.replaceChildren();
              submit();
            },
          }),
        );
      },
      failed({ messages }) {
        showErrors(error, messages);
      },
    });
  }
  page.budgetEditor = {
    busy: false,
    /** Someone else changed a share while this editor is open: say so, keep the inputs. */
    theirChange(param) {
      if (!param || page.budgetEditor.busy || param.version <= versions[param.key]) return;
      notice.replaceChildren(
        el("p", {
          cls: "params-notice-warn",
          txt: t("splitChanged", { who: param.updated_by || t("system"), when: relativeTime(param.updated_at) }),
        }),
      );
    },
  };
  for (const { input } of inputs) input.addEventListener("input", () => {
    error.replaceChildren();
    refresh();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  save.addEventListener("click", submit);
  cancel.addEventListener("click", close);
  refresh();
  inputs[0].input.focus();
  inputs[0].input.select();
}

function closeBudgetEditor(page) {
  page.budgetEditor = null;
  document.getElementById("budget-editor-slot")?.replaceChildren();
  const edit = document.getElementById("budget-edit");
  if (edit) {
    edit.removeAttribute("hidden");
    edit.focus({ preventScroll: true });
  }
}

// ---- Presets --------------------------------------------------------------------------------

export function renderPresets(page) {
  const { t } = page;
  const list = document.getElementById("preset-list");
  if (!list) return;
  const lang = page.config.lang === "zh" ? "zh" : "en";
  list.replaceChildren(
    ...page.state.presets.map((preset) => {
      const current = presetIsCurrent(page.state, preset);
      const values = page.budgetKeys.map((key) => preset.values[key]);
      const bar = el("div", { cls: "budget-bar budget-bar--mini", attrs: { "aria-hidden": "true" } }, [
        el("span", { cls: "budget-bar__seg budget-bar__seg--1" }),
        el("span", { cls: "budget-bar__seg budget-bar__seg--2" }),
        el("span", { cls: "budget-bar__seg budget-bar__seg--3" }),
      ]);
      paintBar(page, bar, values);
      const actions = el("div", { cls: "preset__actions" });
      const name = preset.label[lang] || preset.name;
      if (page.isManager && !current) {
        const apply = button(t("applyPreset"), { attrs: { "data-action": "apply-preset" } });
        apply.addEventListener("click", () => confirmPreset(page, preset, name, actions));
        actions.append(apply);
      }
      return el("div", { cls: `preset${current ? " is-current" : ""}`, attrs: { "data-preset": preset.name } }, [
        el("div", { cls: "preset__head" }, [
          el("strong", { txt: name }),
          current ? el("span", { cls: "badge badge--ok", txt: t("currentPreset") }) : null,
        ]),
        el("p", { cls: "preset__desc", txt: preset.description[lang] || "" }),
        bar,
        el("p", { cls: "preset__split", txt: values.map((v) => page.fmt.formatPct(v, 2)).join(" / ") }),
        actions,
      ]);
    }),
  );
}

function confirmPreset(page, preset, name, actions) {
  const { t } = page;
  const error = el("div", { cls: "param-editor__error", attrs: { role: "alert" } });
  const yes = button(t("confirm"), { cls: "button--primary button--small", attrs: { "data-action": "confirm-preset" } });
  const no = button(t("cancel"), { attrs: { "data-action": "cancel-preset" }, onClick: () => renderPresets(page) });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    // The versions this page holds: a change made meanwhile elsewhere answers 409, not lost.
    const versions = Object.fromEntries(
      Object.keys(preset.values).map((key) => [key, (page.state.params.get(key) || {}).version]),
    );
    const response = await page.api("POST", `${API}presets/${encodeURIComponent(preset.name)}/apply/`, {
      reason: "",
      versions,
    });
    handleAnswer(response, t, {
      ok({ data }) {
        receiveParameters(page, data.parameters || []);
        renderPresets(page);
        toast((data.changed || []).length ? t("presetApplied", { name }) : t("presetAlready"), "ok");
      },
      failed({ messages }) {
        yes.disabled = false;
        showErrors(error, messages);
      },
    });
  });
  actions.replaceChildren(
    el("p", { cls: "preset__confirm", txt: t("confirmPreset", { name }) }),
    el("div", { cls: "params-conflict__actions" }, [yes, no]),
    error,
  );
  yes.focus();
}
