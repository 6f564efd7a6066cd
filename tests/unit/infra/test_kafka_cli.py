"""`horizon kafka ...` exit codes: 0 done, 1 failed (with the reason), 3 from status when stopped."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from horizon.cli import app

runner = CliRunner()


def test_status_of_a_stopped_broker_says_so_and_exits_3(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HORIZON_KAFKA_HOME", str(tmp_path))
    monkeypatch.setenv("HORIZON_KAFKA_PORT", "19392")

    result = runner.invoke(app, ["kafka", "status"])

    assert result.exit_code == 3
    assert "stopped bootstrap=127.0.0.1:19392" in result.output


def test_stop_when_nothing_runs_succeeds(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HORIZON_KAFKA_HOME", str(tmp_path))

    result = runner.invoke(app, ["kafka", "stop"])

    assert result.exit_code == 0
    assert "not running" in result.output


def test_start_without_java_fails_with_the_reason(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HORIZON_KAFKA_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))

    result = runner.invoke(app, ["kafka", "start"])

    assert result.exit_code == 1
    assert "Java" in result.output
