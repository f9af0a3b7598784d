"""``tftsr provider|chat|whys|analyze|ollama``: AI providers, the investigation chat and 5-Whys."""

from __future__ import annotations

import os
import sys
import threading

from ..errors import CancelledError, ValidationError
from ..whys import strip_why_prefix
from ._common import Output, UsageError, _records, _table, _wb


def cmd_provider_add(args):
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ValidationError(f"environment variable {args.api_key_env} is not set or empty")
    info = _wb(args).providers.add_provider(
        args.name, args.type, args.url, args.model, api_key=key, max_tokens=args.max_tokens,
        temperature=args.temperature, custom_endpoint_path=args.path, custom_auth_header=args.auth_header,
        custom_auth_prefix=args.auth_prefix, api_format=args.format, activate=True if args.use else None)
    return Output(info.to_dict(), f"added provider {info.name} ({info.provider_type}, {info.model})"
                                  + (" — active" if info.is_active else ""))


def cmd_provider_list(args):
    rows = _records(_wb(args).providers.list_providers())
    return Output(rows, _table(rows, ["name", "provider_type", "model", "api_url", "has_api_key", "is_active"]))


def cmd_provider_test(args):
    result = _wb(args).providers.test_provider_connection(args.name)
    out = Output({"success": result.success, "message": result.message, "latency_ms": result.latency_ms},
                 result.message)
    if not result.success:
        from ..errors import ProviderError

        raise ProviderError(result.message)
    return out


def cmd_provider_use(args):
    info = _wb(args).providers.set_active_provider(args.name)
    return Output(info.to_dict(), f"{info.name} is now the active provider")


def cmd_provider_delete(args):
    _wb(args).providers.delete_provider(args.name)
    return Output({"deleted": args.name}, f"deleted provider {args.name}")


def cmd_chat(args):
    wb = _wb(args)
    cancel = threading.Event()
    box: dict = {}
    streaming = not args.json and not args.no_stream

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def show_tool(event: dict) -> None:  # each tool call and result, on stderr (stdout is the reply)
        if event["event"] == "call":
            sys.stderr.write(f"\n[tool {event['tool']}({event['arguments'][:300]})]\n")
        else:
            sys.stderr.write(f"[tool {event['tool']}: {event['status']} ({event['decision']})]\n")
        sys.stderr.flush()

    def run():
        try:
            from .mcp import terminal_approver

            box["result"] = wb.chat.chat_message(args.issue_id, args.message, attach_log_ids=args.attach or (),
                                                 attach_resources=[{"server": s, "uri": u}
                                                                   for s, u in args.resource or ()],
                                                 provider=args.provider,
                                                 on_chunk=write if streaming else None, cancel=cancel,
                                                 stream=not args.no_stream, approver=terminal_approver(),
                                                 allow_tools=args.allow_tool or (), on_tool=show_tool,
                                                 tools=not args.no_tools)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except KeyboardInterrupt:  # Ctrl-C: stop the request, keep what arrived
        cancel.set()
        worker.join(30)
        if streaming:
            write("\n")
        raise CancelledError("stopped: the request was cancelled; the partial reply was stored")
    if "error" in box:
        raise box["error"]
    res = box["result"]
    for a in res.attachments:  # how each attached log left, e.g. "sent without redaction by the reviewer's choice"
        sys.stderr.write(f"{a['file_name']}: {a['label']}\n")
    if args.json:
        msgs = wb.chat.list_messages(args.issue_id, res.conversation_id)
        return Output({"conversation_id": res.conversation_id, "provider": res.provider, "messages": _records(msgs),
                       "tool_calls": res.tool_calls,
                       "why_level": res.why_level, "root_cause": res.root_cause,
                       "steps_added": _records(res.steps_added), "sent_sha256": res.sent_sha256,
                       "attachments": res.attachments})
    tail = ""
    if res.steps_added:
        tail += f"\n[5-Whys: level {res.why_level}]"
    if res.root_cause:
        tail += f"\n[root cause: {res.root_cause}]"
    if streaming:
        write("\n" + (tail.strip() + "\n" if tail else ""))
        return Output(None, raw=b"")
    return Output(None, res.display_text + tail)


def cmd_whys(args):
    wb = _wb(args)
    wb.issues.require(args.issue_id)
    if args.add is not None:
        if not args.question:
            raise UsageError("whys --add N needs --question")
        wb.whys.add_five_why(args.issue_id, args.add, args.question, args.answer, args.evidence)
    elif args.update:
        wb.whys.update_five_why(args.update, args.answer, question=args.question, evidence=args.evidence)
    elif args.root_cause:
        wb.whys.record_root_cause(args.issue_id, args.root_cause)
    steps = wb.whys.list_five_whys(args.issue_id)
    data = {"issue_id": args.issue_id, "level": wb.chat.current_why_level(args.issue_id),
            "root_cause": wb.whys.root_cause(args.issue_id), "steps": _records(steps)}
    lines = [f"{s.step_order}. {strip_why_prefix(s.why_question)}\n   -> {s.answer or '(no answer yet)'}" for s in steps]
    lines.append(f"root cause: {data['root_cause'] or '(not identified yet)'}")
    return Output(data, "\n".join(lines))


def cmd_analyze(args):
    report = _wb(args).chat.analyze_logs(args.issue_id, args.log_ids)
    d = report.to_dict()
    text = [f"Summary: {report.summary}", "Key findings:"] + [f"  - {f}" for f in report.key_findings]
    text += [f"First why: {report.first_why}", f"Suggested severity: {report.severity_suggestion}"]
    if report.note:
        text.append(f"Note: {report.note}")
    return Output(d, "\n".join(text))


def _ollama(args):
    from ..ai.ollama import OllamaClient

    url = args.url or _wb(args).settings.get("ollama_url")
    return OllamaClient(url)


def cmd_ollama_status(args):
    with _ollama(args) as client:
        st = client.status()
    d = st.__dict__ if not hasattr(st, "to_dict") else st.to_dict()
    return Output(d, ", ".join(f"{k}: {v}" for k, v in d.items()))


def cmd_ollama_list(args):
    with _ollama(args) as client:
        models = client.list_models()
    rows = [{"name": m.name, "size": m.size, "modified_at": getattr(m, "modified_at", None)} for m in models]
    return Output(rows, _table(rows, ["name", "size", "modified_at"]))


def cmd_ollama_pull(args):
    last = {}

    def progress(p):
        last["p"] = p
        if not args.json:
            pct = p.percent
            sys.stderr.write(f"\r{p.status} {pct:5.1f}%" if pct is not None else f"\r{p.status}")
            sys.stderr.flush()

    with _ollama(args) as client:
        client.pull(args.name, progress)
    if not args.json:
        sys.stderr.write("\n")
    return Output({"pulled": args.name, "status": getattr(last.get("p"), "status", "success")}, f"pulled {args.name}")


def cmd_ollama_delete(args):
    with _ollama(args) as client:
        client.delete(args.name)
    return Output({"deleted": args.name}, f"deleted model {args.name}")


def cmd_ollama_recommend(args):
    from ..ai.ollama import detect_hardware, recommend_models

    hw = detect_hardware()
    recs = recommend_models(hw)
    rows = [{"name": r.name, "size": r.size, "recommended": r.recommended, "reason": r.reason} for r in recs]
    return Output({"hardware": hw.__dict__, "models": rows}, _table(rows, ["name", "size", "recommended", "reason"]))


def register(sub, add):
    prov = add.group(sub, "provider", "configure AI providers (keys stored encrypted)")
    sp = add(prov, "add", cmd_provider_add, "add a provider (the first one becomes active)")
    sp.add_argument("name")
    sp.add_argument("--type", required=True, choices=["openai", "ollama", "anthropic", "gemini", "custom"],
                    help="openai covers OpenAI, Azure OpenAI, Mistral, LM Studio, vLLM and LiteLLM")
    sp.add_argument("--url", required=True, help="base URL, e.g. https://api.openai.com/v1 or http://localhost:11434")
    sp.add_argument("--model", help="model name (default: the default_model setting)")
    sp.add_argument("--api-key-env", metavar="VAR", help="read the API key from this environment variable")
    sp.add_argument("--max-tokens", type=int, default=4096)
    sp.add_argument("--temperature", type=float, default=0.7)
    sp.add_argument("--path", help="custom endpoint path (e.g. /openai/deployments/D/chat/completions?api-version=...)")
    sp.add_argument("--auth-header", help="auth header name (default Authorization; Azure: api-key)")
    sp.add_argument("--auth-prefix", help="auth value prefix (default 'Bearer '; Azure: '')")
    sp.add_argument("--format", help="custom providers: openai or custom_rest")
    sp.add_argument("--use", action="store_true", help="make it the active provider")
    add(prov, "list", cmd_provider_list, "list providers (keys are never shown)")
    sp = add(prov, "test", cmd_provider_test, "send one tiny request to a provider")
    sp.add_argument("name", nargs="?")
    sp = add(prov, "use", cmd_provider_use, "make a provider the active one")
    sp.add_argument("name")
    sp = add(prov, "delete", cmd_provider_delete, "delete a provider")
    sp.add_argument("name")

    sp = add(sub, "chat", cmd_chat, "send a message about an issue; the reply streams to stdout (Ctrl-C stops it)")
    sp.add_argument("issue_id")
    sp.add_argument("message")
    sp.add_argument("--attach", action="append", metavar="LOG_ID", help="attach a log (redacted before sending)")
    sp.add_argument("--resource", action="append", nargs=2, metavar=("SERVER", "URI"),
                    help="attach an MCP resource (read from the server, redacted before sending; repeatable)")
    sp.add_argument("--provider", metavar="NAME",
                    help="use this provider for the issue's conversation (kept on it; the active provider is unchanged)")
    sp.add_argument("--no-stream", action="store_true", help="wait for the whole reply")
    sp.add_argument("--allow-tool", action="append", metavar="SERVER.TOOL",
                    help="approve this MCP tool for this turn (others that ask are asked on the terminal, "
                         "or denied without one)")
    sp.add_argument("--no-tools", action="store_true", help="offer the model no tools this turn")

    sp = add(sub, "whys", cmd_whys, "show the 5-Whys of an issue, or edit a step by hand")
    sp.add_argument("issue_id")
    sp.add_argument("--add", type=int, metavar="N", help="add why N (1-5)")
    sp.add_argument("--update", metavar="STEP_ID", help="change a step")
    sp.add_argument("--question")
    sp.add_argument("--answer")
    sp.add_argument("--evidence")
    sp.add_argument("--root-cause", metavar="TEXT", help="record the root cause")

    sp = add(sub, "analyze", cmd_analyze, "ask the model to analyse logs (redacted) of an issue")
    sp.add_argument("issue_id")
    sp.add_argument("log_ids", nargs="+", metavar="LOG_ID")

    oll = add.group(sub, "ollama", "manage local Ollama models")
    for name, func, help_ in (("status", cmd_ollama_status, "is Ollama running, which version"),
                              ("list", cmd_ollama_list, "installed models"),
                              ("recommend", cmd_ollama_recommend, "models that fit this machine's hardware")):
        sp = add(oll, name, func, help_)
        sp.add_argument("--url", help="Ollama URL (default: the ollama_url setting)")
    for name, func, help_ in (("pull", cmd_ollama_pull, "download a model (progress on stderr)"),
                              ("delete", cmd_ollama_delete, "remove a model")):
        sp = add(oll, name, func, help_)
        sp.add_argument("name")
        sp.add_argument("--url", help="Ollama URL (default: the ollama_url setting)")
