"""The loan book import (contract section 2): the file rules, the upsert, the HTTP API."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

from carloan.loanbook.parsing import ImportRejected, LoanbookFile
from carloan.loanbook.services import loanbook_import, loanbook_refresh
from carloan.models import (
    ImportRun,
    Lead,
    LoanApplication,
    LoanSnapshot,
    MarketingSpend,
    Sample,
    Valuation,
)
from carloan.signals import loanbook_changed
from tests.factories import csv_file

URL = "/api/imports/"

LEADS = """
lead_id,created_at,region,branch,channel
L1,2026-03-01T09:00:00Z,EAST-01,Downtown,web
L2,2026-03-02T10:30:00+08:00,EAST-02,,partner
L3,2026-03-03T23:15:00,WEST-01,Airport,web
"""


def parse(kind: str, text: str, **kwargs: Any) -> tuple[LoanbookFile, list[tuple[Any, ...]]]:
    parsed = LoanbookFile(kind, csv_file(text, **kwargs))
    return parsed, list(parsed.rows())


def raw(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def post(client: APIClient, kind: str, text: str, **kwargs: Any) -> Any:
    return client.post(
        URL, {"kind": kind, "file": csv_file(text, f"{kind}.csv", **kwargs)}, format="multipart"
    )


@pytest.fixture
def head_client(risk_head: User, client_for: Any) -> APIClient:
    return client_for(risk_head)


# --- reading the file (pure) --------------------------------------------------------------------


def test_bom_crlf_quoted_commas_and_any_column_order() -> None:
    text = """
    channel,region,lead_id,branch,created_at
    web,EAST-01,L1,"Main St, No. 5",2026-03-01T09:00:00Z
    "partner, offline",EAST-02,L2,,2026-03-02
    """
    parsed, rows = parse("leads", text, bom=True, crlf=True)
    assert parsed.warnings == []
    assert [row[:-1] for row in rows] == [
        ("L1", "2026-03-01T09:00:00+00:00", "EAST-01", "Main St, No. 5", "web"),
        ("L2", "2026-03-02T00:00:00+00:00", "EAST-02", "", "partner, offline"),
    ]
    assert [row[-1] for row in rows] == [2, 3]  # the physical line numbers


def test_extra_columns_are_ignored_with_a_warning() -> None:
    parsed, rows = parse("leads", "lead_id,created_at,region,channel,Score\nL1,2026-03-01,E,web,9")
    assert rows[0][:-1] == ("L1", "2026-03-01T00:00:00+00:00", "E", "", "web")
    assert len(parsed.warnings) == 1
    assert "'Score'" in parsed.warnings[0]
    assert "ignored" in parsed.warnings[0]


def test_timestamps_z_offset_and_naive_in_utc() -> None:
    _, rows = parse("leads", LEADS)
    assert [row[1] for row in rows] == [
        "2026-03-01T09:00:00+00:00",
        "2026-03-02T02:30:00+00:00",  # 10:30 at +08:00
        "2026-03-03T23:15:00+00:00",  # naive = TIME_ZONE, here UTC
    ]


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_naive_timestamps_and_business_days_in_the_business_time_zone() -> None:
    parsed, rows = parse("leads", LEADS)
    assert [row[1] for row in rows] == [
        "2026-03-01T09:00:00+00:00",
        "2026-03-02T02:30:00+00:00",
        "2026-03-03T15:15:00+00:00",  # 23:15 in Shanghai
    ]
    # 2026-03-01T09:00Z is 17:00 in Shanghai: still March 1st.
    assert (parsed.first_day, parsed.last_day) == (date(2026, 3, 1), date(2026, 3, 3))


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_a_date_in_a_timestamp_column_is_local_midnight() -> None:
    _, rows = parse("leads", "lead_id,created_at,region,channel\nL1,2026-03-05,E,web")
    assert rows[0][1] == "2026-03-04T16:00:00+00:00"


def test_first_and_last_day_cover_every_day_column() -> None:
    text = """
    application_id,region,applied_at,decision,decided_at
    A1,E,2026-02-27T10:00:00Z,approved,2026-03-02T10:00:00Z
    A2,E,2026-03-01T10:00:00Z,pending,
    A3,E,2026-03-01T10:00:00Z,rejected,2026-03-09T00:00:00Z
    """
    parsed, rows = parse("applications", text)
    assert len(rows) == 3
    assert (parsed.first_day, parsed.last_day) == (date(2026, 2, 27), date(2026, 3, 9))


def test_numbers_are_checked_and_normalised() -> None:
    text = """
    loan_id,region,funded_at,principal,term_months,annual_rate
    K1,E,2026-03-01,"120000.505",36,7.25
    K2,E,2026-03-01,"1,200.00",36,
    K3,E,2026-03-01,-5,36,
    K4,E,2026-03-01,100,thirty,
    K5,E,2026-03-01,100,601,
    K6,E,2026-03-01,100,12,1e3
    """
    parsed, rows = parse("loans", text)
    assert [row[:-1] for row in rows] == [
        ("K1", "", "E", "2026-03-01T00:00:00+00:00", "120000.51", "36", "7.2500", "", None)
    ]
    problems = {(e["line"], e["column"]): e["reason"] for e in parsed.errors}
    assert "use '.' for decimals" in problems[(3, "principal")]
    assert "below the minimum 0" in problems[(4, "principal")]
    assert "not a whole number" in problems[(5, "term_months")]
    assert "above the maximum 600" in problems[(6, "term_months")]
    assert "not a number" in problems[(7, "annual_rate")]


def test_dates_must_be_year_month_day() -> None:
    text = """
    date,region,channel,amount
    2026-03-01,E,web,10
    01/03/2026,E,web,10
    2026-02-30,E,web,10
    20260301,E,web,10
    """
    parsed, rows = parse("marketing_spend", text)
    assert len(rows) == 1
    assert [e["line"] for e in parsed.errors] == [3, 4, 5]
    assert all("YYYY-MM-DD" in e["reason"] for e in parsed.errors)


def test_header_only_is_zero_rows() -> None:
    parsed, rows = parse("leads", "lead_id,created_at,region,channel")
    assert rows == []
    assert parsed.rows_read == 0
    assert parsed.first_day is None


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImportRejected, match="empty"):
        LoanbookFile("leads", raw(b""))
    with pytest.raises(ImportRejected, match="empty"):
        LoanbookFile("leads", raw(b"\xef\xbb\xbf"))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ImportRejected, match="Unknown kind 'borrowers'"):
        LoanbookFile("borrowers", raw(b"a,b\n"))


def test_a_missing_required_column_is_named() -> None:
    with pytest.raises(ImportRejected) as caught:
        LoanbookFile("leads", csv_file("lead_id,region,channel\nL1,E,web"))
    assert caught.value.errors == [
        {
            "line": 1,
            "column": "created_at",
            "reason": "the required column 'created_at' is missing from the header",
        }
    ]


def test_bad_bytes_are_reported_with_their_line() -> None:
    data = b"lead_id,created_at,region,channel\nL1,2026-03-01,E,web\n" + (
        b"L2,2026-03-01,\xff\xfeE,web\nL3,2026-03-01,E,web\n"
    )
    parsed = LoanbookFile("leads", raw(data))
    rows = list(parsed.rows())
    assert [row[0] for row in rows] == ["L1", "L3"]
    assert parsed.errors[0]["line"] == 3
    assert "not valid UTF-8" in parsed.errors[0]["reason"]


def test_line_numbers_count_physical_lines_of_multiline_fields() -> None:
    text = (
        "lead_id,created_at,region,branch,channel\n"
        'L1,2026-03-01,E,"two\nlines",web\n'
        "L2,2026-03-01,E,,\n"
    )
    parsed = LoanbookFile("leads", raw(text.encode()))
    rows = list(parsed.rows())
    assert rows[0][3] == "two\nlines"
    assert parsed.errors == [{"line": 4, "column": "channel", "reason": "is required"}]


def test_a_row_with_the_wrong_number_of_fields_is_bad() -> None:
    parsed, rows = parse("leads", "lead_id,created_at,region,channel\nL1,2026-03-01,E\n")
    assert rows == []
    assert parsed.errors[0]["reason"] == "has 3 fields, the header has 4"


def test_only_the_first_100_errors_are_listed_but_all_are_counted() -> None:
    body = "\n".join(f"L{i},yesterday,E,web" for i in range(250))
    parsed, _ = parse("leads", "lead_id,created_at,region,channel\n" + body)
    rejection = parsed.rejection()
    assert len(rejection.errors) == 100
    assert rejection.total_errors == 250
    assert rejection.errors[0]["line"] == 2


def test_progress_is_reported_while_reading() -> None:
    seen: list[int] = []
    body = "\n".join(f"L{i},2026-03-01,E,web" for i in range(25_000))
    parsed = LoanbookFile(
        "leads", csv_file("lead_id,created_at,region,channel\n" + body), progress=seen.append
    )
    list(parsed.rows())
    assert seen == [10_000, 20_000, 25_000]


# --- storing (service, real database) -----------------------------------------------------------


def import_text(kind: str, text: str, **kwargs: Any) -> Any:
    return loanbook_import(kind=kind, source=csv_file(text), refresh="none", **kwargs)


@pytest.mark.django_db
def test_stored_instants_are_the_utc_instants() -> None:
    import_text("leads", LEADS)
    stored = dict(Lead.objects.values_list("lead_id", "created_at"))
    assert stored == {
        "L1": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "L2": datetime(2026, 3, 2, 2, 30, tzinfo=UTC),
        "L3": datetime(2026, 3, 3, 23, 15, tzinfo=UTC),
    }


@pytest.mark.django_db
def test_naive_timestamps_are_stored_in_the_business_time_zone(settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    result = import_text("leads", LEADS)
    assert Lead.objects.get(lead_id="L3").created_at == datetime(2026, 3, 3, 15, 15, tzinfo=UTC)
    assert (result.first_day, result.last_day) == (date(2026, 3, 1), date(2026, 3, 3))


@pytest.mark.django_db
def test_importing_twice_changes_nothing_and_a_changed_row_counts_as_updated() -> None:
    first = import_text("leads", LEADS)
    assert (first.rows, first.created, first.updated) == (3, 3, 0)
    before = list(Lead.objects.order_by("lead_id").values())
    again = import_text("leads", LEADS)
    assert (again.rows, again.created, again.updated) == (3, 0, 0)
    assert list(Lead.objects.order_by("lead_id").values()) == before
    changed = import_text("leads", LEADS.replace("Airport", "Harbour"))
    assert (changed.created, changed.updated) == (0, 1)
    assert Lead.objects.get(lead_id="L3").branch == "Harbour"
    assert ImportRun.objects.filter(status="succeeded").count() == 3


@pytest.mark.django_db
def test_tables_with_a_surrogate_id_are_upserted_by_their_unique_columns() -> None:
    spend = "date,region,channel,amount\n2026-03-01,E,web,100.50\n2026-03-01,E,tv,80"
    assert import_text("marketing_spend", spend).created == 2
    again = import_text("marketing_spend", spend.replace("100.50", "100.5"))
    assert (again.created, again.updated) == (0, 0)  # the same amount, written differently
    assert import_text("marketing_spend", spend.replace("100.50", "120")).updated == 1
    assert MarketingSpend.objects.get(channel="web").amount == Decimal("120.00")

    samples = """
    metric,ts,value,region,source
    availability,2026-03-01T00:00:00Z,1,,probe
    availability,2026-03-01T08:00:00+08:00,0,EAST-01,probe
    api_response_time,2026-03-01T00:00:01Z,183.25,,
    """
    assert import_text("samples", samples).created == 3
    again = import_text("samples", samples)
    assert (again.created, again.updated) == (0, 0)
    assert Sample.objects.count() == 3
    assert Sample.objects.get(metric="availability", region="").value == 1.0

    snapshots = "loan_id,as_of,outstanding_principal,dpd,status\nK1,2026-03-01,1000,0,active"
    import_text("loan_snapshots", snapshots)
    updated = import_text("loan_snapshots", snapshots.replace(",0,active", ",31,active"))
    assert (updated.created, updated.updated) == (0, 1)
    assert LoanSnapshot.objects.get().dpd == 31


@pytest.mark.django_db
def test_an_update_that_moves_a_row_touches_its_old_day_too() -> None:
    import_text("leads", "lead_id,created_at,region,channel\nL1,2026-03-01T10:00:00Z,E,web")
    moved = import_text("leads", "lead_id,created_at,region,channel\nL1,2026-03-20T10:00:00Z,E,web")
    assert (moved.first_day, moved.last_day) == (date(2026, 3, 1), date(2026, 3, 20))


@pytest.mark.django_db
def test_a_duplicate_key_in_one_file_is_a_bad_row() -> None:
    text = """
    lead_id,created_at,region,channel
    L1,2026-03-01,E,web
    L2,2026-03-01,E,web
    L1,2026-03-02,E,web
    """
    with pytest.raises(ImportRejected) as caught:
        import_text("leads", text)
    assert caught.value.errors == [
        {"line": 4, "column": "lead_id", "reason": "duplicate of line 2 (same lead_id)"}
    ]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_valuations_cannot_complete_before_they_are_requested() -> None:
    text = """
    valuation_id,region,requested_at,completed_at,model_value,reference_value
    V1,E,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,100000,98000
    V2,E,2026-03-01T10:00:00Z,2026-03-01T09:00:00Z,100000,98000
    V3,E,2026-03-01T10:00:00Z,,,
    """
    with pytest.raises(ImportRejected) as caught:
        import_text("valuations", text)
    assert caught.value.errors == [
        {"line": 3, "column": "completed_at", "reason": "is before requested_at"}
    ]
    assert import_text("valuations", text.replace("T09:00", "T11:00")).created == 3
    assert Valuation.objects.get(valuation_id="V3").completed_at is None


@pytest.mark.django_db
def test_a_rejected_file_is_recorded_with_its_errors(manager: User) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_text("leads", "lead_id,created_at,region,channel\nL1,soon,E,web", user=manager)
    run = ImportRun.objects.get()
    assert run.pk == caught.value.run_id
    assert (run.status, run.imported_by, run.rows) == ("rejected", manager, 0)
    assert run.errors[0]["column"] == "created_at"


@pytest.mark.django_db
def test_the_refresh_signal_names_the_kind_and_the_touched_days() -> None:
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    loanbook_changed.connect(receiver, dispatch_uid="test-import-receiver")
    try:
        text = """
        application_id,region,applied_at,decision,decided_at
        A1,E,2026-02-27T10:00:00Z,approved,2026-03-02T10:00:00Z
        A2,E,2026-03-01T10:00:00Z,pending,
        """
        result = loanbook_import(kind="applications", source=csv_file(text), refresh="now")
    finally:
        loanbook_changed.disconnect(dispatch_uid="test-import-receiver")
    assert len(received) == 1
    assert received[0]["kind"] == "applications"
    assert received[0]["first_day"] == date(2026, 2, 27)
    assert received[0]["last_day"] == date(2026, 3, 2)
    assert received[0]["synchronous"] is True
    run = ImportRun.objects.get(pk=result.run_id)
    assert run.refreshed_at is not None
    assert LoanApplication.objects.count() == 2


@pytest.mark.django_db
def test_the_refresh_can_run_twice() -> None:
    result = import_text("leads", LEADS)
    first = loanbook_refresh(run_id=result.run_id)
    second = loanbook_refresh(run_id=result.run_id)
    assert first is not None and second is not None
    assert second.refreshed_at >= first.refreshed_at
    assert loanbook_refresh(run_id=10**9) is None


@pytest.mark.django_db
def test_a_background_refresh_is_enqueued_only_on_commit(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carloan import tasks

    enqueued: list[int] = []
    monkeypatch.setattr(tasks.loanbook_refresh, "delay", enqueued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = loanbook_import(kind="leads", source=csv_file(LEADS), refresh="background")
    assert enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [result.run_id]


# --- HTTP ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_http_import_answers_201_with_the_counts(head_client: APIClient) -> None:
    response = post(head_client, "leads", LEADS + "\n", bom=True, crlf=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("kind", "rows", "created", "updated", "warnings")} == {
        "kind": "leads",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "warnings": [],
    }
    assert (body["first_day"], body["last_day"]) == ("2026-03-01", "2026-03-03")
    run = ImportRun.objects.get(pk=body["run_id"])
    assert run.imported_by.username == "rick_risk"
    assert run.file_name == "leads.csv"
    again = post(head_client, "leads", LEADS).json()
    assert (again["created"], again["updated"]) == (0, 0)


@pytest.mark.django_db
def test_http_import_warns_about_extra_columns(head_client: APIClient) -> None:
    text = "lead_id,created_at,region,channel,notes\nL1,2026-03-01,E,web,hello"
    response = post(head_client, "leads", text)
    assert response.status_code == 201
    assert len(response.json()["warnings"]) == 1


@pytest.mark.django_db
def test_one_bad_row_rejects_the_file_and_stores_nothing(head_client: APIClient) -> None:
    text = """
    lead_id,created_at,region,channel
    L1,2026-03-01,EAST-01,web
    L2,2026-13-01,EAST-01,web
    L3,2026-03-01,EAST-01,web
    """
    response = post(head_client, "leads", text)
    assert response.status_code == 400
    body = response.json()
    assert body["total_errors"] == 1
    assert body["errors"] == [
        {
            "line": 3,
            "column": "created_at",
            "reason": "'2026-13-01' is not an ISO 8601 timestamp (e.g. 2026-03-01T09:30:00+08:00)",
        }
    ]
    assert "nothing" in body["detail"]
    assert not Lead.objects.exists()
    assert ImportRun.objects.get().status == "rejected"


@pytest.mark.django_db
def test_every_bad_row_is_listed(head_client: APIClient) -> None:
    text = """
    application_id,region,applied_at,decision,decided_at,credit_score
    A1,EAST-01,2026-03-01T10:00:00,approved,2026-03-02T10:00:00,700
    A2,EAST-01,2026-03-01T10:00:00,pending,,
    A3,EAST-01,2026-03-01T10:00:00,approved,,650
    A4,all,2026-03-01T10:00:00,rejected,2026-03-02T10:00:00,1200
    A5,EAST-01,2026-03-01T10:00:00,maybe,2026-03-02T10:00:00,
    A6,EAST-01,2026-03-05T10:00:00,rejected,2026-03-02T10:00:00,
    A7,ALL,2026-03-05T10:00:00,pending,,
    """
    response = post(head_client, "applications", text)
    assert response.status_code == 400
    body = response.json()
    found = [(e["line"], e["column"]) for e in body["errors"]]
    assert found == [
        (4, "decided_at"),
        (5, "region"),
        (5, "credit_score"),
        (6, "decision"),
        (7, "decided_at"),
        (8, "region"),
    ]
    assert body["total_errors"] == 6
    reasons = {(e["line"], e["column"]): e["reason"] for e in body["errors"]}
    assert reasons[(4, "decided_at")] == "is required when the decision is approved"
    assert "reserved" in reasons[(5, "region")]
    assert reasons[(7, "decided_at")] == "is before applied_at"
    assert not LoanApplication.objects.exists()


@pytest.mark.django_db
def test_a_pending_application_needs_no_decision_time(head_client: APIClient) -> None:
    text = "application_id,region,applied_at,decision\nA1,EAST-01,2026-03-01T10:00:00,pending"
    response = post(head_client, "applications", text)
    assert response.status_code == 201, response.content
    assert LoanApplication.objects.get().decided_at is None


@pytest.mark.django_db
def test_a_missing_required_column_is_a_400_naming_it(head_client: APIClient) -> None:
    response = post(head_client, "leads", "lead_id,created_at,region\nL1,2026-03-01,E")
    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "channel"
    assert "'channel'" in response.json()["detail"]


@pytest.mark.django_db
def test_an_empty_file_is_a_400(head_client: APIClient) -> None:
    upload = io.BytesIO(b"")
    upload.name = "leads.csv"
    response = head_client.post(URL, {"kind": "leads", "file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "The file is empty."


@pytest.mark.django_db
def test_unknown_kind_or_missing_fields_are_field_errors(head_client: APIClient) -> None:
    response = post(head_client, "borrowers", "a\n1")
    assert response.status_code == 400
    assert "kind" in response.json()
    response = head_client.post(URL, {"kind": "leads"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.django_db
def test_who_may_import(viewer: User, manager: User, client_for: Any) -> None:
    assert post(client_for(None), "leads", LEADS).status_code == 401
    assert post(client_for(viewer), "leads", LEADS).status_code == 403
    assert not Lead.objects.exists()
    assert post(client_for(manager), "leads", LEADS).status_code == 201


@pytest.mark.django_db
@override_settings(IMPORT_MAX_BYTES=100)
def test_an_oversized_file_is_refused_with_413(head_client: APIClient) -> None:
    response = post(head_client, "leads", LEADS)
    assert response.status_code == 413
    assert "at most 100 bytes" in response.json()["detail"]
    big = "lead_id,created_at,region,channel\n" + "L1,2026-03-01,E,web\n" * 5000
    response = post(head_client, "leads", big)
    assert response.status_code == 413
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_recent_imports_are_listed_for_everyone(
    head_client: APIClient, viewer: User, client_for: Any
) -> None:
    post(head_client, "leads", LEADS)
    post(head_client, "leads", "lead_id,created_at,region,channel\nL9,never,E,web")
    response = client_for(viewer).get(URL)
    assert response.status_code == 200
    runs = response.json()
    assert [r["status"] for r in runs] == ["rejected", "succeeded"]
    assert runs[1]["rows"] == 3
    assert runs[1]["imported_by"] == "rick_risk"
    assert client_for(viewer).get(URL, {"limit": 1}).json()[0]["status"] == "rejected"
    assert client_for(None).get(URL).status_code == 401


@pytest.mark.django_db
def test_the_schema_documents_the_import(viewer: User, client_for: Any) -> None:
    response = client_for(viewer).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/imports/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"201", "400", "401", "403", "413"} <= set(operation["responses"])


@pytest.mark.django_db
def test_absurd_values_are_bad_rows_never_a_server_error(head_client: APIClient) -> None:
    text = f"""
    loan_id,region,funded_at,principal,term_months,annual_rate,vehicle_id
    K1,E,0001-01-01T00:00:00+08:00,100,12,,
    K2,E,2026-03-01,{"9" * 40},12,,
    K3,E,2026-03-01,100,{"9" * 5000},,
    K4,E,2026-03-01,100,12,NaN,
    K5,E,2026-03-01,100,12,,{"v" * 65}
    K6,{"R" * 33},2026-03-01,100,12,,
    """
    response = post(head_client, "loans", text)
    assert response.status_code == 400
    found = [(e["line"], e["column"]) for e in response.json()["errors"]]
    assert found == [
        (2, "funded_at"),
        (3, "principal"),
        (4, "term_months"),
        (5, "annual_rate"),
        (6, "vehicle_id"),
        (7, "region"),
    ]


@pytest.mark.django_db
def test_a_file_cannot_make_us_store_without_limit() -> None:
    """100,000 stray columns once stored 100,000 warnings; now the header is capped, and stray
    columns are named up to 20 and counted beyond."""
    wide = "lead_id,created_at,region,channel," + ",".join(f"x{i}" for i in range(100_000))
    with pytest.raises(ImportRejected) as caught:
        import_text("leads", wide + "\nL1,2026-03-01,E,web")
    assert "at most 200 are read" in caught.value.errors[0]["reason"]

    stray = "lead_id,created_at,region,channel," + ",".join(f"x{i}" for i in range(150))
    result = import_text("leads", stray + "\nL1,2026-03-01,E,web" + "," * 150)
    assert result.created == 1
    assert len(result.warnings) == 21
    assert result.warnings[-1] == "... and 130 more columns were ignored."
    assert len(ImportRun.objects.get(pk=result.run_id).warnings) == 21
