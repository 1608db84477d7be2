"""End to end: `python -m infra.local` keeps its state in a data folder only when asked, and a killed
stack loses no more than its last seconds."""

from __future__ import annotations

import pytest

from infra.local import process
from infra.local.state_files import TableState, read_snapshot
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


def create_topic(stack: process.LocalStackProcess, key: str, slug: str) -> None:
    status, body = stack.request(
        "POST", "/v1/topics", {"slug": slug, "name": slug.title()}, {"Authorization": f"Bearer {key}"}
    )
    assert status == 201, body


def topics(stack: process.LocalStackProcess, key: str) -> list[str]:
    _, body = stack.request("GET", "/v1/topics", headers={"Authorization": f"Bearer {key}"})
    return [topic["slug"] for topic in body["topics"]]


def test_a_stack_started_for_tests_ignores_the_developers_data_folder(tmp_path, monkeypatch):
    # Given a developer whose shell points SUBCAST_DATA_DIR at their data
    monkeypatch.setenv("SUBCAST_DATA_DIR", str(tmp_path))
    key = "sc_e2e00000_persistence-test-key"

    # When a test starts a stack through infra.local.process, changes something and stops it
    stack = process.start({"SUBCAST_BOOTSTRAP_API_KEY": key})
    try:
        create_topic(stack, key, "ephemeral")
    finally:
        assert stack.stop() == 0, stack.log()

    # Then the stack kept its state in memory only, and said so
    assert list(tmp_path.iterdir()) == []
    assert "State              in memory only (SUBCAST_DATA_DIR is empty)" in stack.log()


def test_a_killed_stack_loses_no_more_than_its_last_seconds(tmp_path):
    # Given a stack on a data folder, where a topic was created and has been saved since
    first = process.start({"SUBCAST_DATA_DIR": str(tmp_path)})
    try:
        key = (tmp_path / "bootstrap-key").read_text().strip()
        create_topic(first, key, "survivor")

        def saved() -> bool:
            table = (snapshot := read_snapshot(tmp_path)) and snapshot.tables.get("DataTable")
            return isinstance(table, TableState) and any(
                item["sk"] == {"S": "survivor"} for item in table.items
            )

        wait_for(saved)

        # When the stack is killed outright (no clean stop) and started again on the same folder
        first.process.kill()
        first.process.wait()
    finally:
        first.stop()
    second = process.start({"SUBCAST_DATA_DIR": str(tmp_path)})
    try:
        # Then the topic is there, and the key printed by the first run still works
        assert topics(second, key) == ["survivor"]
        assert f"Bootstrap API key  {key}  (from {tmp_path / 'bootstrap-key'})" in second.log()
        assert "loaded the snapshot of" in second.log()
    finally:
        assert second.stop() == 0, second.log()
