""""Allow for this session" means the same for MCP tools and shell commands: the dashboard
sign-in session, else the terminal session (a second ``tftsr`` process in the same terminal still
holds it, a new terminal does not), and never after the session ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tftsr_kernel.team import acting_as

ASK = textwrap.dedent("""
    import sys, tftsr_kernel
    wb = tftsr_kernel.open(sys.argv[1])
    answer = sys.argv[2]
    decided = wb.approvals.request("mcp:ops.restart", "ops.restart()", {}, approver=lambda req: answer, timeout=5)
    print(decided, wb.approvals.session_id)
    wb.close()
""")

# A terminal: a session leader that stays alive while the commands typed into it run, one by one.
TERMINAL = textwrap.dedent("""
    import subprocess, sys
    for answer in sys.argv[3:]:
        out = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2], answer],
                             capture_output=True, text=True, check=True, timeout=60)
        print(out.stdout.strip())
""")


def _terminal(data_dir, *answers) -> list[tuple[str, str]]:
    """Open a new terminal (its own session, whatever the runner's is), ask once per answer in it."""
    out = subprocess.run([sys.executable, "-c", TERMINAL, ASK, str(data_dir), *answers], capture_output=True,
                         text=True, check=True, timeout=120, start_new_session=True)
    return [tuple(line.split(" ", 1)) for line in out.stdout.splitlines()]


def test_the_terminal_session_spans_processes_and_a_new_terminal_asks_again(data_dir, wb):
    (first, session), (second, same) = _terminal(data_dir, "allow_session", "deny")
    assert first == "allow_session"
    assert second == "allow_session" and same == session                       # same terminal: remembered
    assert session.startswith("proc:")
    [(other, elsewhere)] = _terminal(data_dir, "deny")
    assert other == "deny" and elsewhere != session                              # another terminal: asked again
    assert not wb.approvals.session_allows("mcp:ops.restart", session)           # that terminal has closed


def test_a_session_ended_here_asks_again(wb):
    assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "allow_session") == "allow_session"
    assert wb.approvals.session_allows("mcp:ops.restart")
    wb.approvals.new_session()                                                   # ended here
    assert not wb.approvals.session_allows("mcp:ops.restart")
    assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "deny") == "deny"


def test_a_sign_in_session_holds_until_sign_out(wb):
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst", password="correct horse battery staple")
    signed = wb.team.sign_in("ana", "correct horse battery staple")
    with acting_as(wb.team.authenticate_session(signed.token)):
        assert wb.approvals.session_id == f"signin:{signed.session.id}"
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "allow_session") == "allow_session"
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "deny") == "allow_session"
    wb.team.sign_out(signed.token)
    again = wb.team.sign_in("ana", "correct horse battery staple")     # a new sign-in is a new session
    with acting_as(wb.team.authenticate_session(again.token)):
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "deny") == "deny"
        assert not wb.approvals.session_allows("mcp:ops.restart", f"signin:{signed.session.id}")  # ended


def test_two_users_in_one_process_each_decide_for_themselves(wb):
    """The HTTP API acts for many users in one process: one user's "for this session" is not another's."""
    wb.team.create_user("ada", "admin")
    wb.team.create_user("ana", "analyst")
    wb.team.create_user("bob", "analyst")
    with acting_as(wb.team.actor_for("ana", "api_key")):
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "allow_session") == "allow_session"
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "deny") == "allow_session"
    with acting_as(wb.team.actor_for("bob", "api_key")):
        assert wb.approvals.request("mcp:ops.restart", "s", {}, approver=lambda r: "deny") == "deny"
