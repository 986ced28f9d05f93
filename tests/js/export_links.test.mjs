// Unit tests of the download links' pure logic (static/js/export_links.js): the filters a link
// keeps follow the page's URL, "every one" drops the parameter, and the rest of the link stays.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { keptHref } from "../../static/js/export_links.js";

const BOARD = "/api/kanban/boards/1/export/";
const FILTERS = ["department", "assignee", "label", "type", "overdue", "q"];

describe("download links keep the page's filters", () => {
  test("filters set on the page since it loaded are added, the format stays", () => {
    assert.equal(
      keptHref(`${BOARD}?format=xlsx`, "?board=1&q=%2312&overdue=1", FILTERS),
      `${BOARD}?format=xlsx&overdue=1&q=%2312`,
    );
  });

  test("filters cleared on the page are dropped from the link", () => {
    assert.equal(
      keptHref(`${BOARD}?q=old&label=x&format=csv`, "?board=1&label=y", FILTERS),
      `${BOARD}?label=y&format=csv`,
    );
  });

  test("the value meaning every region drops the filter; other parameters are left alone", () => {
    const link = "/api/alerts/export/?status=open&region=EAST-01&format=csv";
    assert.equal(keptHref(link, "?region=all&date=2026-11-02", ["region"], "all"), "/api/alerts/export/?status=open&format=csv");
    assert.equal(keptHref(link, "?region=WEST-02", ["region"], "all"), "/api/alerts/export/?status=open&region=WEST-02&format=csv");
  });

  test("text is encoded, never injected into the address", () => {
    assert.equal(
      keptHref(`${BOARD}?format=csv`, "?q=a%26format%3Dpdf", ["q"]),
      `${BOARD}?format=csv&q=a%26format%3Dpdf`,
    );
  });
});
