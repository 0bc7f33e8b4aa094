"""Turn one run's raw numbers into the comparison: ratios, added latency, targets, Markdown.

Added latency is a percentile of the target minus the same percentile sent direct
(`p50(easel) - p50(direct)`), from the same run. Ratios of requests/s are to the direct
and to the pass-through figures of the same scenario.
"""

from __future__ import annotations

from typing import Any

TARGETS = ("direct", "passthrough", "easel")
LABELS = {"direct": "direct", "passthrough": "pass-through", "easel": "easel"}


def compare(scenario: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per target: rps, p50/p99, added p50/p99 (and first chunk for streams), ratios."""
    direct, through = scenario["direct"], scenario["passthrough"]
    rows: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        run = scenario[target]
        row: dict[str, Any] = {
            "rps": run["rps"], "p50_ms": run["latency"]["p50_ms"], "p99_ms": run["latency"]["p99_ms"],
            "added_p50_ms": run["latency"]["p50_ms"] - direct["latency"]["p50_ms"],
            "added_p99_ms": run["latency"]["p99_ms"] - direct["latency"]["p99_ms"],
            "rps_vs_direct": run["rps"] / direct["rps"], "rps_vs_passthrough": run["rps"] / through["rps"],
            "p50_vs_direct": run["latency"]["p50_ms"] / direct["latency"]["p50_ms"],
            "p50_vs_passthrough": run["latency"]["p50_ms"] / through["latency"]["p50_ms"],
            "errors": run["errors"], "client_cpu_share": run["client_cpu_share"],
            "foreign_cpu_share": run.get("foreign_load", {}).get("share", float("nan")),
        }
        if "first_chunk" in run:
            row["first_chunk_p50_ms"] = run["first_chunk"]["p50_ms"]
            row["first_chunk_p99_ms"] = run["first_chunk"]["p99_ms"]
            row["added_first_chunk_p50_ms"] = run["first_chunk"]["p50_ms"] - direct["first_chunk"]["p50_ms"]
            row["added_first_chunk_p99_ms"] = run["first_chunk"]["p99_ms"] - direct["first_chunk"]["p99_ms"]
        rows[target] = row
    return rows


def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets for easel, each with the measured value and whether it is met."""
    c8 = doc["comparison"]["non-streaming c8"]
    stream = doc["comparison"]["streaming c8"]
    checks = [
        ("requests/s at c8 >= 0.5 x pass-through", c8["easel"]["rps_vs_passthrough"], ">=", 0.5, "x"),
        ("added p50 at c8 < 2 ms", c8["easel"]["added_p50_ms"], "<", 2.0, "ms"),
        ("streaming first-chunk overhead (p50) < 3 ms", stream["easel"]["added_first_chunk_p50_ms"], "<", 3.0, "ms"),
    ]
    local = (doc.get("extras") or {}).get("local")
    if local:
        checks.append(("local tokens/s through easel >= 95 % of direct", local["ratio"], ">=", 0.95, "x"))
    out = []
    for name, value, op, bound, unit in checks:
        met = value >= bound if op == ">=" else value < bound
        out.append({"target": name, "value": value, "unit": unit, "met": met})
    return out


def _repeated(doc: dict[str, Any]) -> str:
    rows = [f"{name} / {LABELS[target]} ({run['attempts']} tries)" for name, runs in doc["results"].items()
            for target, run in runs.items() if run.get("attempts", 1) > 1]
    return ("; repeated rows: " + ", ".join(rows)) if rows else "; no row needed repeating"


def _f(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        f"Measured {doc['when']} with `{doc['command']}` "
        f"({doc['config']['duration_s']:g} s measured after {doc['config']['warmup_s']:g} s warm-up per row).",
        "",
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + ".",
        f"Pinning: {doc['config']['pinning']}.",
        "",
        "| scenario | target | req/s | vs direct | vs pass-through | p50 ms | p99 ms | added p50 ms | added p99 ms "
        "| first chunk p50 / p99 ms | added first chunk p50 / p99 ms | errors | client CPU | others' CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rows in doc["comparison"].items():
        for target in TARGETS:
            r = rows[target]
            first = added_first = "-"
            if "first_chunk_p50_ms" in r:
                first = f"{_f(r['first_chunk_p50_ms'])} / {_f(r['first_chunk_p99_ms'])}"
                if target != "direct":
                    added_first = f"{_f(r['added_first_chunk_p50_ms'])} / {_f(r['added_first_chunk_p99_ms'])}"
            added = ("-", "-") if target == "direct" else (_f(r["added_p50_ms"]), _f(r["added_p99_ms"]))
            lines.append(
                f"| {name} | {LABELS[target]} | {_f(r['rps'], 0)} | {_f(r['rps_vs_direct'])}x "
                f"| {_f(r['rps_vs_passthrough'])}x | {_f(r['p50_ms'])} | {_f(r['p99_ms'])} | {added[0]} | {added[1]} "
                f"| {first} | {added_first} | {r['errors']} | {r['client_cpu_share']:.0%} "
                f"| {r['foreign_cpu_share']:.0%} |")
    lines += ["", "client CPU: the load generator's own use of its core (well below 100 %: it was not the "
              "bottleneck). others' CPU: the share of the machine's CPU time taken by processes outside the "
              "benchmark during the row (0 % is a clean row); a row above "
              f"{doc['config']['noisy_threshold']:.0%} is measured again (at most {doc['config']['retries']} times) "
              "and the cleanest attempt kept" + _repeated(doc) + ".",
              "", "easel's added latency as a multiple of the pass-through's (same run):", ""]
    lines += ["| scenario | added p50: easel / pass-through | added p99: easel / pass-through |",
              "| --- | ---: | ---: |"]
    for name, rows in doc["comparison"].items():
        e, p = rows["easel"], rows["passthrough"]
        ratio50 = e["added_p50_ms"] / p["added_p50_ms"] if p["added_p50_ms"] > 0 else float("nan")
        ratio99 = e["added_p99_ms"] / p["added_p99_ms"] if p["added_p99_ms"] > 0 else float("nan")
        lines.append(f"| {name} | {_f(ratio50, 1)}x | {_f(ratio99, 1)}x |")
    usage = doc.get("usage_rows")
    if usage:
        lines += ["", f"easel's usage accounting: {usage['rows']:,} usage rows written for {usage['answered']:,} "
                      "answers (warm-up included), all through the batched recorder."]
    costs = doc.get("costs")
    if costs:
        prov, app, use = costs["provider"], costs["app"], costs["usage"]
        lines += [
            "", "CPU time per request of easel's parts (`costs.py`, in one process, CPU time so that other "
            "users of the machine do not skew it):", "",
            "| part | CPU µs per request |", "| --- | ---: |",
            f"| provider: `stream_chat` against the upstream, 8 at a time | {_f(prov['stream_chat'], 0)} |",
        ]
        if "http_only" in prov:
            lines.append(f"| of which the HTTP client alone (same request, body read, not parsed) "
                         f"| {_f(prov['http_only'], 0)} |")
        lines += [
            f"| app, chat request with the provider stubbed (ASGI call, no sockets) | {_f(app['chat_stubbed'], 0)} |",
            f"| the same without the usage record | {_f(app['chat_stubbed_without_usage_record'], 0)} |",
            f"| app, GET /healthz (the web framework's floor) | {_f(app['healthz'], 0)} |",
            f"| usage `record()` | {_f(use['record'], 1)} |",
            f"| of which `new_id()` | {_f(use['new_id'], 1)} |",
            f"| usage batched flush to SQLite, per row | {_f(use['flush_per_row'], 1)} |",
        ]
    extras = doc.get("extras")
    if extras:
        s, r, loc = extras["start_to_ready_s"], extras["rss_mib"], extras["local"]
        e, d = loc["through_easel"], loc["direct_xllamacpp"]
        lines += [
            "", "| extra figure | value |", "| --- | ---: |",
            "| start to ready, first start (database created and migrated) "
            f"| {_f(s['cold_first_start'] * 1000, 0)} ms |",
            f"| start to ready, later starts (median of {len(s['warm'])}) | {_f(s['warm_median'] * 1000, 0)} ms |",
            f"| idle RSS after start | {_f(r['idle_after_start'], 1)} MiB |",
            f"| idle RSS after one local chat (SmolLM2 loaded) | {_f(r['idle_after_one_local_chat'], 1)} MiB |",
            f"| {loc['model']} tokens/s through easel (median of {len(e['runs'])}) "
            f"| {_f(e['median_tokens_per_second'], 1)} |",
            f"| {loc['model']} tokens/s direct xllamacpp (median of {len(d['runs'])}) "
            f"| {_f(d['median_tokens_per_second'], 1)} |",
            f"| through easel / direct | {_f(loc['ratio'] * 100, 1)} % |",
            f"| first local answer, model load included | {_f(loc['first_request_with_load']['seconds'], 2)} s |",
        ]
    lines += ["", "| target for easel | measured | met |", "| --- | ---: | --- |"]
    for t in doc["targets"]:
        lines.append(f"| {t['target']} | {_f(t['value'])} {t['unit']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"
