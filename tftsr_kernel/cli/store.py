"""``tftsr init|verify|rekey|backup|demo|settings``: the store itself."""

from __future__ import annotations

from ._common import Output, VerifyFailed, _wb, path_arg


def cmd_init(args):
    wb = _wb(args)
    data = {"data_dir": str(wb.data_dir), "database": str(wb.db_path), "key": wb.key_origin,
            "audit_key": wb.audit.keyring.describe(), "migrations": len(wb.db.applied_migrations())}
    return Output(data, f"data directory: {data['data_dir']}\ndatabase:       {data['database']}\n"
                        f"key:            {data['key']}\naudit key:      {data['audit_key']}")


def cmd_verify(args):
    wb = _wb(args)
    problems, chain = wb.verify(expect_head=args.expect_head)
    data = {"ok": not problems and chain.ok, "integrity": problems or "ok", "audit_chain": chain.to_dict(),
            "audit_head": chain.head}
    if not data["ok"]:
        if problems:  # damage first: the audit findings may only be its consequence
            msg = "database integrity: " + "; ".join(problems[:3])
            if not chain.ok:
                msg += f"; and audit log: {chain.reason}"
        elif chain.first_bad_id:
            msg = f"audit chain broken at entry {chain.first_bad_id} (#{chain.first_bad_index + 1}): {chain.reason}"
        else:
            msg = f"audit log: {chain.reason}"
        extra = len(chain.problems) - 1 if not problems else 0
        if extra > 0:
            msg += f" (and {extra} more finding(s); see --json)"
        raise VerifyFailed(msg, data)
    lines = [f"ok: database integrity verified, audit chain of {chain.entries} entries intact"
             + (" and matching the recorded head" if args.expect_head else "")]
    lines += [f"note: {n}" for n in chain.notes]
    if chain.head is not None:
        lines.append(f"audit head: {chain.head}")
        lines.append("(record it somewhere else; check later with: tftsr verify --expect-head HEAD)")
    return Output(data, "\n".join(lines))


def cmd_rekey(args):
    wb = _wb(args)
    where = wb.rekey()
    return Output({"rekeyed": True, "new_key": where}, f"database re-encrypted; the new key is in {where}")


def cmd_backup(args):
    dest = _wb(args).backup(args.dest)
    return Output({"backup": str(dest)}, f"encrypted backup written to {dest} (same key as the database)")


def cmd_demo(args):
    from ..demo import create_demo

    wb = _wb(args)
    if args.if_empty and wb.issues.count_issues() > 0:
        return Output({"created": False, "reason": "database already has issues"}, "demo skipped: issues exist")
    issue, log = create_demo(wb)
    return Output({"created": True, "issue": issue.to_dict(), "log_file": log.to_dict()},
                  f"demo incident {issue.id}: {issue.title}")


def cmd_settings_show(args):
    import json

    data = _wb(args).settings.get_settings()
    return Output(data, "\n".join(f"{k} = {json.dumps(v)}" for k, v in data.items()))


def cmd_settings_set(args):
    import json

    wb = _wb(args)
    value = wb.settings.parse_cli_value(args.key, args.value)
    data = wb.settings.update_settings({args.key: value})
    return Output(data, f"{args.key} = {json.dumps(data[args.key])}")


def register_init(sub, add):
    add(sub, "init", cmd_init, "create the data directory, key and database; print where they are")


def register(sub, add):
    sp = add(sub, "verify", cmd_verify, "check SQLCipher integrity, the search index and the audit log; print its head")
    sp.add_argument("--expect-head", metavar="HEAD",
                    help="a head printed by an earlier verify: the audit log must extend it")
    add(sub, "rekey", cmd_rekey, "re-encrypt under a new key (TFTSR_NEW_DB_KEY, else a new key file)")
    sp = add(sub, "backup", cmd_backup, "write an encrypted copy of the database")
    path_arg(sp, "dest")
    sp = add(sub, "demo", cmd_demo, "create a sample incident with a sample log")
    sp.add_argument("--if-empty", action="store_true", help="only when the database has no issues")

    ssub = add.group(sub, "settings", "show and change settings")
    add(ssub, "show", cmd_settings_show, "print every setting")
    sp = add(ssub, "set", cmd_settings_set, "change one setting (value as JSON or text)")
    sp.add_argument("key")
    sp.add_argument("value")
