// The calibration panel of the /parameters/ page (managers): run the score cut-off's calibration
// now and show what it found; a proposed cut-off is filed as a pending change request (four
// eyes, like any risk.* change) and shows in the pending list.
//   POST calibrate/ → 200 {proposed, reason, evidence, request?}

import { el } from "../common.js";
import { API, handleAnswer } from "./responses.js";
import { renderEvidence, upsertRequest } from "./tables.js";

function stat(name, value) {
  return el("div", { cls: "stat" }, [
    el("span", { cls: "stat__value", txt: value }),
    el("span", { cls: "stat__label", txt: name }),
  ]);
}

export async function runCalibration(page) {
  const runButton = document.getElementById("run-calibration");
  const busy = document.getElementById("calibration-busy");
  const box = document.getElementById("calibration-result");
  runButton.disabled = true;
  busy.hidden = false;
  box.replaceChildren(el("p", { cls: "muted", txt: page.t("calibrationRunning") }));
  const response = await page.api("POST", `${API}calibrate/`, {});
  runButton.disabled = false;
  busy.hidden = true;
  handleAnswer(response, page.t, {
    ok: ({ data }) => showCalibration(page, box, data),
    failed: ({ messages }) => box.replaceChildren(el("p", { cls: "field__error", txt: messages.join(" ") })),
  });
}

function showCalibration(page, box, data) {
  const { t } = page;
  const { formatNumber, formatPct } = page.fmt;
  const ev = data.evidence || {};
  const at = ev.at_current_cutoff || {};
  const headline =
    data.proposed && data.request
      ? t("calibrationProposed", { id: data.request.id, current: ev.current_cutoff, proposed: ev.proposed_cutoff })
      : t("calibrationNone");
  if (data.request) upsertRequest(page, data.request);
  box.replaceChildren(
    el("div", { cls: `result ${data.proposed ? "result--ok" : "result--info"}` }, [
      el("p", { cls: "result__title", txt: headline }),
      el("div", { cls: "stats" }, [
        ev.current_cutoff !== undefined ? stat(t("currentCutoff"), formatNumber(ev.current_cutoff, 0)) : null,
        at.loans !== undefined ? stat(t("sample"), formatNumber(at.loans, 0)) : null,
        at.loans !== undefined ? stat(t("rateAtCutoff"), formatPct(at.bad_rate_pct)) : null,
        ev.target_bad_rate_pct !== undefined ? stat(t("target"), formatPct(ev.target_bad_rate_pct)) : null,
        ev.proposed_cutoff ? stat(t("proposedCutoff"), formatNumber(ev.proposed_cutoff, 0)) : null,
      ]),
      el("p", { cls: "small", txt: t("calibrationDetails", { reason: data.reason }) }),
      el("h4", { cls: "evidence__title", txt: t("evidence") }),
      renderEvidence(page, ev),
    ]),
  );
}
