// The colour theme: the system's, light or dark. Loaded synchronously in <head> (a classic
// script, not a module: modules run after parsing, and the Content-Security-Policy forbids
// inline scripts), so <html data-mode> is set before the first paint and a dark page never
// flashes white.
//
//   <html data-theme="system|light|dark">  what the person chose (localStorage "carloan.theme")
//   <html data-mode="light|dark">          what is shown (the system's preference for "system")
//
// app.css keys its dark colours on [data-mode="dark"]; pages without this script (the PDF of
// the quarterly review) stay light. The header's [data-theme-choice] buttons change the choice;
// a "themechange" event on document (detail: {mode, choice}) tells the charts (plot_theme.js).
(function () {
  "use strict";
  var KEY = "carloan.theme";
  var CHOICES = ["system", "light", "dark"];
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return CHOICES.indexOf(value) >= 0 ? value : "system";
    } catch (error) {
      return "system"; // storage blocked: follow the system
    }
  }

  function resolve(choice) {
    if (choice === "system") return media && media.matches ? "dark" : "light";
    return choice;
  }

  function syncButtons(choice) {
    var buttons = document.querySelectorAll("[data-theme-choice]");
    for (var i = 0; i < buttons.length; i += 1) {
      var on = buttons[i].getAttribute("data-theme-choice") === choice;
      buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  function apply(choice, announce) {
    var mode = resolve(choice);
    var changed = root.getAttribute("data-mode") !== mode;
    root.setAttribute("data-theme", choice);
    root.setAttribute("data-mode", mode);
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.setAttribute("content", mode);
    syncButtons(choice);
    if (changed && announce) {
      document.dispatchEvent(new CustomEvent("themechange", { detail: { mode: mode, choice: choice } }));
    }
  }

  function choose(choice) {
    if (CHOICES.indexOf(choice) < 0) return;
    try {
      window.localStorage.setItem(KEY, choice);
    } catch (error) {
      // storage blocked: the choice holds for this page only
    }
    apply(choice, true);
  }

  apply(stored(), false);

  if (media) {
    var follow = function () {
      if (stored() === "system") apply("system", true);
    };
    if (media.addEventListener) media.addEventListener("change", follow);
    else if (media.addListener) media.addListener(follow);
  }
  // Another tab changed the choice.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) apply(stored(), true);
  });
  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("[data-theme-choice]") : null;
    if (target) choose(target.getAttribute("data-theme-choice"));
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncButtons(root.getAttribute("data-theme"));
  });

  window.carloanTheme = {
    choose: choose,
    get choice() {
      return root.getAttribute("data-theme");
    },
    get mode() {
      return root.getAttribute("data-mode");
    },
  };
})();
