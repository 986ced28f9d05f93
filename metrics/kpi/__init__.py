"""KPI scoring and the quarterly review (contract section 7, issue 7).

- `quarters`: quarter labels (`2026Q3`) and their days (pure).
- `scoring`: the KPI score, the department score and the rules a KPI set obeys (pure).
- `models`: KPI definitions, their change log, and quarter closings (frozen scorecards).
- `selectors`: actuals over a quarter (one pass of the metric engine), scorecards (frozen or
  live), trends, what the review shows (alerts, parameter changes).
- `services`: the writers: replace a department's KPI set, close and reopen a quarter.
- `charts`: Plotly figures from plain data (pure). `exports`: CSV, XLSX and the PDF review.
- `api`, `views`, `urls`: the HTTP surface and the pages.
"""
