"""Writes conformance/peers/RESULTS.md from the JSON reports in results/.

Each `conformance run --json` report lists every wire rule with its status and every
check with its verdict. This script counts the rules per group (the rule prefix),
one column per server, then lists each peer's failed checks (and, for the corpus
checks, each failed case) with the suite's reason and the classification kept in
classifications.py, which is where human judgment lives. A failure with no
classification is listed as "unclassified", so a new failure is never hidden.

Usage: python3 summarise.py --results DIR --out FILE [--versions NAME=VER ...]
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classifications import ALL, KINDS, OURS as OURS_KIND, PEER as PEER_KIND, RULES  # noqa: E402
from classifications import SUITE as SUITE_KIND, SUITE_BUGS  # noqa: E402

GROUPS = [
    "ENV", "INPUT", "START", "WRITE", "BODY", "FILE", "STREAM",
    "REQ", "FRAME", "CONN", "LIMIT", "FAIL", "SRV",
]
SERVERS = [
    ("reference", "reference server"),
    ("bridge", "gateway-serve --wsgi"),
    ("gunicorn-sync", "gunicorn sync"),
    ("gunicorn-gthread", "gunicorn gthread"),
    ("waitress", "waitress"),
    ("wsgiref", "wsgiref"),
    ("granian", "granian"),
]
PEERS = [s for s in SERVERS if s[0] != "reference"]
HOW = {
    "reference": "`conformance serve` (the Rust fixture app on the reference server)",
    "gunicorn-sync": "`gunicorn --workers 1 --worker-class sync fixture_app:application`",
    "gunicorn-gthread": "`gunicorn --workers 1 --worker-class gthread --threads 4 fixture_app:application`",
    "waitress": "`waitress-serve --threads 4 fixture_app:application`",
    "wsgiref": "`python3 fixture_app.py PORT 127.0.0.1` (wsgiref with ThreadingMixIn)",
    "bridge": "`gateway-serve --processes 1 --wsgi fixture_app.py:application` (the gateway-wsgi bridge on the reference server)",
    "granian": "`granian --interface wsgi --workers 1 --blocking-threads 4 fixture_app:application`",
}
# A cite may hold one level of parentheses ("RFC 9112 section 3 (RFC 3986 appendix A)").
CASE_LINE = re.compile(
    r"^(?P<case>[a-z-]+/\d{3}-[a-z0-9-]+) \((?P<cite>(?:[^()]|\([^()]*\))*)\): (?P<why>.*)$"
)


def load(results, name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        report = json.load(f)
    run_path = os.path.join(results, name + ".run.json")
    if os.path.exists(run_path):
        with open(run_path) as f:
            report["run"] = json.load(f)
    return report


def group_cell(report, group):
    if report is None:
        return "n/a"
    rules = [r for r in report["rules"] if r["id"].split("-")[0] == group]
    if not rules:
        return "-"
    count = {s: sum(1 for r in rules if r["status"] == s) for s in ("pass", "fail", "warn", "skip")}
    cell = "%d/%d" % (count["pass"], len(rules))
    extra = ["%d %s" % (count[s], s) for s in ("fail", "warn", "skip") if count[s]]
    if extra:
        cell += " (" + ", ".join(extra) + ")"
    return cell


def verdict_text(check):
    v = check["verdict"]
    return v[len("fail: "):] if v.startswith("fail: ") else v


def failures(report):
    """Yields (key, check, case, why) for each failed check, one per failed corpus case."""
    for check in report["checks"]:
        if not check["verdict"].startswith("fail"):
            continue
        why = verdict_text(check)
        if check["name"].startswith("corpus_"):
            lines = why.split("\n")
            cases = []
            for line in lines[1:]:
                m = CASE_LINE.match(line)
                if m:
                    cases.append([m.group("case"), m.group("why"), ""])
                elif line.strip().startswith("request:") and cases:
                    cases[-1][2] = line.strip()[len("request: "):]
            if cases:
                for case, case_why, request in cases:
                    yield check["name"] + "/" + case, check, case, case_why, request
                continue
        yield check["name"], check, None, why, None


def classify(server, check, case, why):
    """The (kind, note) of the first rule of classifications.RULES that matches."""
    for r in RULES:
        if r["servers"] != ALL and server not in r["servers"]:
            continue
        if not re.search(r["check"], check):
            continue
        if case is None:
            if r["case"] not in (None,) and r["case"] != "*":
                continue
        else:
            if r["case"] is None:
                continue
            if r["case"] != "*" and not re.search(r["case"], case):
                continue
        if not re.search(r["why"], why):
            continue
        return r["kind"], r["note"]
    return None


def suite_only_rules(name, report):
    """The failed MUST rules all of whose failing checks fail only through suite bugs."""
    check_kinds = {}
    for key, check, case, why, request in failures(report):
        c = classify(name, check["name"], case, why)
        check_kinds.setdefault(check["name"], set()).add(c[0] if c else "unclassified")
    only = []
    for rule in report["rules"]:
        if rule["status"] != "fail":
            continue
        if all(check_kinds.get(c) == {SUITE_KIND} for c in rule["failed_checks"]):
            only.append(rule["id"])
    return only


def md_escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def clip(text, n=300):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def rule_level(report, rule_id):
    for r in report["rules"]:
        if r["id"] == rule_id:
            return r["level"]
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--versions", nargs="*", default=[])
    args = ap.parse_args()

    reports = {name: load(args.results, name) for name, _ in SERVERS}
    out = []
    w = out.append
    w("# Peer servers under the conformance suite")
    w("")
    w("Measured by `conformance/peers/run.sh` (see README.md beside it): each Python WSGI")
    w("server hosts the Python twin of the fixture app (`fixtures/wsgi/fixture_app.py`),")
    w("the reference server hosts the Rust fixture app, and `conformance run` judges each")
    w("one from outside over 127.0.0.1. Versions: " + ", ".join(args.versions) + ".")
    w("This file is generated by `summarise.py` from `results/*.json`; the")
    w("classifications come from `classifications.py`.")
    w("")
    w("| server | how it was run | run time | wire rules: pass / fail / warn / skip | checks failed |")
    w("| --- | --- | --- | --- | --- |")
    for name, label in SERVERS:
        r = reports[name]
        if r is None:
            w("| %s | %s | - | no report | - |" % (label, HOW[name]))
            continue
        s = r["summary"]
        secs = r.get("run", {}).get("seconds")
        nfail = sum(1 for c in r["checks"] if c["verdict"].startswith("fail"))
        w("| %s | %s | %s | %d / %d / %d / %d | %d of %d |" % (
            label, HOW[name], "%d s" % secs if secs is not None else "?",
            s["pass"], s["fail"], s["warn"], s["skip"], nfail, len(r["checks"])))
    w("")
    w("## Wire rules per group")
    w("")
    w("Each cell is rules passed / wire rules in the group, then how many failed (a MUST")
    w("or MUST NOT rule with a failing check), warned (a SHOULD rule with a failing")
    w("check) or were skipped.")
    w("")
    w("| group | " + " | ".join(label for _, label in SERVERS) + " |")
    w("| --- | " + " | ".join("---" for _ in SERVERS) + " |")
    for group in GROUPS:
        w("| %s | %s |" % (group, " | ".join(group_cell(reports[n], group) for n, _ in SERVERS)))
    totals = []
    for n, _ in SERVERS:
        r = reports[n]
        totals.append("n/a" if r is None else "**%d/%d**" % (r["summary"]["pass"], len(r["rules"])))
    w("| all | " + " | ".join(totals) + " |")
    w("")
    w("Read the rule counts with care: a check charges every rule it lists when any of")
    w("its assertions fails, and a corpus group charges all of its rules for any case")
    w("(a suite bug, listed at the end), so the counts overstate; the per-check and")
    w("per-case lists below are exact.")
    w("")
    w("Classifications used below:")
    w("")
    for kind, meaning in KINDS.items():
        w("- **%s**: %s" % (kind, meaning))
    w("")

    unclassified = 0
    for name, label in PEERS:
        r = reports[name]
        w("## %s" % label)
        w("")
        if r is None:
            w("No report: the server did not start or the run did not finish (see logs/).")
            w("")
            continue
        failed_rules = [x for x in r["rules"] if x["status"] == "fail"]
        warned = [x for x in r["rules"] if x["status"] == "warn"]
        w("Failed MUST rules (%d): %s." % (
            len(failed_rules),
            ", ".join("%s (%s)" % (x["id"], ", ".join(x["failed_checks"])) for x in failed_rules)
            or "none"))
        w("")
        only = suite_only_rules(name, r)
        if only:
            w("Of these, failed only through suite bugs (%d): %s." % (len(only), ", ".join(only)))
            w("")
        if warned:
            w("Warnings, failed SHOULD rules (%d): %s." % (
                len(warned),
                ", ".join("%s (%s)" % (x["id"], ", ".join(x["failed_checks"])) for x in warned)))
            w("")
        rows = list(failures(r))
        if not rows:
            w("No failed check.")
            w("")
            continue
        # One row per cause: the checks and corpus cases it explains, the rules they
        # observe, and one example of what the suite saw.
        groups = {}
        order = []
        for key, check, case, why, request in rows:
            c = classify(name, check["name"], case, why)
            if c is None:
                unclassified += 1
                c = ("unclassified", "not yet judged: " + clip(why, 200))
            if c not in groups:
                groups[c] = {"items": [], "rules": [], "example": None}
                order.append(c)
            g = groups[c]
            g["items"].append("`%s`" % (case or check["name"]))
            for rid in check["rules"]:
                if rid not in g["rules"]:
                    g["rules"].append(rid)
            if g["example"] is None:
                example = clip(why, 220)
                if request:
                    example += " Request: `%s`" % clip(request, 100).replace("`", "'")
                g["example"] = example
        rank = {PEER_KIND: 0, SUITE_KIND: 1, OURS_KIND: 2}
        order.sort(key=lambda c: rank.get(c[0], -1))
        counts = {}
        for c in order:
            counts[c[0]] = counts.get(c[0], 0) + len(groups[c]["items"])
        w("Failed checks and corpus cases by classification: %s." % ", ".join(
            "%d %s" % (n, k) for k, n in counts.items()))
        w("")
        w("| classification | cause | checks / corpus cases | rules observed | example of what the suite saw |")
        w("| --- | --- | --- | --- | --- |")
        for c in order:
            g = groups[c]
            levels = ", ".join("%s (%s)" % (rid, rule_level(r, rid)) for rid in g["rules"])
            w("| **%s** | %s | %s | %s | %s |" % (
                c[0], md_escape(c[1]), ", ".join(g["items"]), levels, md_escape(g["example"])))
        w("")

    w("## Suite bugs this run found")
    w("")
    w("Found by the peer runs and fixed since in the suite. The first nine, found by the first")
    w("peer run, were fixed by the commit \"conformance: fix the suite bugs the peer run")
    w("exposed\", which every run above uses. The last three, found by the granian run, were")
    w("fixed by the commit \"conformance: corpus cases settle their connection before counting,")
    w("version/003 judged apart, far-above limit cases at 1 MiB\"; of the runs above only")
    w("granian's uses it so far, and the others predate it (their `version/003` and `limits/`")
    w("rows show the old suite's cases and verdicts). Rows still classified as suite bugs come")
    w("from runs that predate the fix of their bug.")
    w("")
    w("| where | check | what is wrong |")
    w("| --- | --- | --- |")
    for where, check, what in SUITE_BUGS:
        w("| %s | `%s` | %s |" % (md_escape(where), md_escape(check), md_escape(what)))
    w("")
    w("Note: a check stops at its first failed assertion, so a failed check may hide")
    w("further deviations of the same peer; the corpus checks list every failed case.")
    w("")

    with open(args.out, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
    if unclassified:
        print("summarise: %d failure(s) have no classification yet" % unclassified, file=sys.stderr)


if __name__ == "__main__":
    main()
