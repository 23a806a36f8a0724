"""The hash-chained audit log on SQLite and PostgreSQL: appends, verification, tampering."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.governance import audit
from comptroller.governance.models import AuditEntry, AuditHead


def append(state, n: int, start: int = 0) -> None:
    with state.session() as s, s.begin():
        for i in range(start, start + n):
            audit.record(s, actor="user:ann", action="budget.update", subject=f"budget:b{i}", detail={"i": i})


def test_entries_chain_and_verify(state):
    append(state, 3)
    with state.session() as s, s.begin():
        entry = audit.record(
            s,
            actor="user:ann",
            action="kill_switch.on",
            subject="agent:triage",
            detail={"why": "loop", "x": 1.5},
        )
        assert entry.seq == 4
    with state.session() as s:
        entries = audit.list_entries(s)
        assert [e.seq for e in entries] == [4, 3, 2, 1]
        assert entries[0].prev_hash == entries[1].hash and entries[-1].prev_hash == audit.GENESIS
        assert [e.seq for e in audit.list_entries(s, action="kill_switch.")] == [4]
        result = audit.verify(s)
    assert result.ok and result.entries == 4 and result.head_hash == entries[0].hash


def test_an_entry_rolls_back_with_its_transaction(state):
    append(state, 1)
    with pytest.raises(RuntimeError), state.session() as s, s.begin():
        audit.record(s, actor="user:ann", action="rule.create", subject="rule:9")
        raise RuntimeError("the change failed")
    append(state, 1, start=1)
    with state.session() as s:
        assert [e.seq for e in audit.list_entries(s)] == [2, 1]
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        (update(AuditEntry).where(AuditEntry.seq == 2).values(actor="user:mallory"), 2, "edited"),
        (update(AuditEntry).where(AuditEntry.seq == 3).values(detail={"i": 99}), 3, "edited"),
        (delete(AuditEntry).where(AuditEntry.seq == 2), 2, "missing"),
        (delete(AuditEntry).where(AuditEntry.seq == 4), 4, "head"),
        (update(AuditEntry).where(AuditEntry.seq == 3).values(prev_hash="f" * 64), 3, "relinked"),
    ],
    ids=["actor", "detail", "deleted", "deleted-tail", "relinked"],
)
def test_verify_finds_the_first_tampered_entry(state, tamper, seq, problem):
    append(state, 4)
    with state.session() as s, s.begin():
        s.execute(tamper)
    with state.session() as s:
        result = audit.verify(s)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, seq, problem)
    assert str(seq) in result.message


def test_a_rewritten_tail_changes_the_head_hash(state):
    """Recomputing hashes after an edit needs the head updated too; verify then passes but the
    published head hash no longer matches, which is why the head is worth anchoring elsewhere."""
    append(state, 2)
    with state.session() as s:
        before = audit.verify(s).head_hash
    with state.session() as s, s.begin():
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
        s.execute(update(AuditHead).values(seq=1, hash=s.get(AuditEntry, 1).hash))
    with state.session() as s:
        after = audit.verify(s)
    assert after.ok and after.head_hash != before


def test_concurrent_writers_never_fork_the_chain(state):
    """Eight threads appending at once: every sequence number once, every link intact."""
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                with state.session() as s, s.begin():
                    audit.record(s, actor=f"user:w{k}", action="key.rotate", subject=f"key:{k}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with state.session() as s:
        result = audit.verify(s)
        assert result.ok and result.entries == 80
        assert sorted(e.seq for e in audit.list_entries(s, limit=100)) == list(range(1, 81))


def test_cli_list_and_verify(home):
    runner = CliRunner()
    assert runner.invoke(app, ["users", "create", "ann", "--role", "finops"]).exit_code == 0
    listed = runner.invoke(app, ["audit", "list", "--json"])
    assert listed.exit_code == 0 and '"action": "user.create"' in listed.output
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    from comptroller.context import Context

    with Context() as ctx, ctx.state.session() as s, s.begin():
        s.execute(update(AuditEntry).values(subject="user:someone-else"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "entry 1" in broken.output and "edited" in broken.output
