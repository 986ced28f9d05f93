// Download links (CSV, XLSX) that keep the page's current filters. The server renders each link
// with the filters the page was opened with; pages that change their filters without reloading
// keep them in their own URL (history.replaceState), so when a link marked
//
//   <a href="/api/…/export/?format=csv" data-export-keep="region,status" data-export-any="all">
//
// is followed, the query parameters it names are copied from the page's URL at that moment (a
// parameter missing there, or equal to `data-export-any`, means "every one": it is dropped).

/** The link's address (path and query) with the `names` parameters taken from `pageSearch`. */
export function keptHref(href, pageSearch, names, any = "") {
  const url = new URL(href, "http://page.invalid/");
  const page = new URLSearchParams(pageSearch);
  for (const name of names) {
    const value = page.get(name);
    if (value && value !== any) url.searchParams.set(name, value);
    else url.searchParams.delete(name);
  }
  return `${url.pathname}${url.search}`;
}

function keepFilters(link) {
  const names = (link.dataset.exportKeep || "").split(",").map((name) => name.trim()).filter(Boolean);
  if (!names.length) return;
  link.setAttribute(
    "href",
    keptHref(link.getAttribute("href"), window.location.search, names, link.dataset.exportAny || ""),
  );
}

// Before the browser follows the link (click, keyboard, middle click or the context menu).
if (typeof document !== "undefined") {
  for (const type of ["click", "auxclick", "contextmenu"]) {
    document.addEventListener(type, (event) => {
      const link = event.target instanceof Element ? event.target.closest("a[data-export-keep]") : null;
      if (link) keepFilters(link);
    }, true);
  }
}
