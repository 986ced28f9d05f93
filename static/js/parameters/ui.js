// Small DOM pieces every part of the /parameters/ page uses: toasts, the highlight of a change,
// error lists, and selecting by a parameter's key. Nothing runs at import.

import { el } from "../common.js";

/** A parameter key in an attribute selector ([data-param="…"]). */
export const sel = (key) => CSS.escape(key);

export function toast(message, variant = "info") {
  const box = document.getElementById("params-toasts");
  if (!box) return;
  const item = el("div", { cls: `params-toast params-toast--${variant}`, txt: message });
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

export function flash(node) {
  if (!node) return;
  node.classList.remove("is-flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("is-flash");
  setTimeout(() => node.classList.remove("is-flash"), 2600);
}

export function showErrors(node, messages) {
  node.replaceChildren(
    ...messages.map((message) => el("p", { cls: "field__error", txt: message })),
  );
}
