/**
 * The JSON-RPC part of the benchmark (issue 21): calls per second of duct's `RpcPeer` against a
 * baseline, both with `content-length` framing, with 1 and with 100 requests in flight (64-byte
 * params, an echo handler); and the latency of a single call against duct's plain
 * `send`+`receive` round trip of the same bytes, timed in the same process. The baseline is
 * vscode-jsonrpc run by Node over a Unix socket; on Windows (Wine, no Node), `node:net` in Deno
 * carrying the same JSON over a named pipe (`peers/node_net_rpc.mjs`).
 *
 * @module
 */

import { fromFileUrl } from "@std/path";
import { median, type Target } from "./_report.ts";
import { spawnDriver } from "./_spawn.ts";

/** Sizes of the RPC part of one run. */
export interface RpcSizes {
  /** Passes over both peers, interleaved. */
  rounds: number;
  /** Measured repetitions per client process, after one discarded warm-up. */
  reps: number;
  /** Calls per repetition with 1 in flight. */
  single: number;
  /** Calls per repetition with {@linkcode MANY} in flight. */
  many: number;
  /** Plain round trips, then single calls, per repetition of the latency client. */
  trips: number;
}

/** Requests in flight at once in the concurrent workload. */
export const MANY = 100;

/**
 * The RPC part's sizes: `--quick` keeps it to a few seconds.
 *
 * @example
 * ```ts
 * import { rpcSizes } from "./_rpc.ts";
 * console.log(rpcSizes(true).rounds); // 1
 * ```
 */
export function rpcSizes(quick: boolean): RpcSizes {
  return quick
    ? { rounds: 1, reps: 2, single: 1_000, many: 5_000, trips: 1_000 }
    : { rounds: 3, reps: 5, single: 3_000, many: 30_000, trips: 5_000 };
}

/** What the RPC part measured; times in µs, rates in calls/s, each the median of its samples. */
export interface RpcResults {
  sizes: RpcSizes;
  /** Calls per second by peer, with 1 and with {@linkcode MANY} in flight: every repetition. */
  rates: Record<string, { single: number[]; many: number[] }>;
  /** Single-call latency percentiles by row (`duct`, `duct plain`, `vscode-jsonrpc`). */
  latency: Record<string, { p50: number; p99: number; calls: number }>;
  targets: Target[];
  /** Why a peer or figure is missing. */
  notes: string[];
}

const VSCODE = "vscode-jsonrpc 8.2.1";
const NODE_NET = "node:net in Deno";

/**
 * Runs the RPC part: each round starts each peer's server, then its clients one after another.
 * `node` is the Node command, or `undefined` where there is none (vscode-jsonrpc is then skipped);
 * `folder` holds the Unix sockets, `undefined` on Windows (named pipes, and the `node:net`
 * baseline instead of vscode-jsonrpc).
 *
 * @example
 * ```ts ignore
 * const results = await runRpc({ sizes: rpcSizes(true), node: "node", folder: "/tmp/x" });
 * console.log(renderRpc(results));
 * ```
 */
export async function runRpc(
  options: { sizes: RpcSizes; node: string | undefined; folder: string | undefined },
): Promise<RpcResults> {
  const { sizes, node, folder } = options;
  const notes: string[] = [];
  const rates: RpcResults["rates"] = {};
  const plain: number[] = [];
  const deno = [Deno.execPath(), "run", "--allow-all", "--quiet", "--no-lock"];
  const peers = [{ id: "duct", command: [...deno, here("./peers/duct_rpc.ts")] }];
  const baseline = folder === undefined ? NODE_NET : VSCODE;
  const calls: Record<string, number[]> = { duct: [], [baseline]: [] };
  if (folder === undefined) {
    peers.push({ id: NODE_NET, command: [...deno, here("./peers/node_net_rpc.mjs")] });
  } else if (node === undefined) notes.push(`${VSCODE} skipped: it needs Node`);
  else peers.push({ id: VSCODE, command: [node, here("../tests/peers/vscode_jsonrpc.mjs")] });
  for (let round = 1; round <= sizes.rounds; round++) {
    for (const peer of peers) {
      const path = folder === undefined
        ? `\\\\.\\pipe\\duct-bench-rpc-${Deno.pid}-${round}`
        : `${folder}/rpc-${peers.indexOf(peer)}-${round}.sock`;
      const server = await startServer([...peer.command, "server", path]);
      try {
        const rate = rates[peer.id] ??= { single: [], many: [] };
        const reps = String(sizes.reps);
        const one = await runClient([...peer.command, "bench", path, `${sizes.single}`, "1", reps]);
        rate.single.push(...one.samples as number[]);
        if (peer.id !== "duct") calls[peer.id].push(...one.latencies as number[]);
        const many = await runClient([
          ...peer.command,
          "bench",
          path,
          `${sizes.many}`,
          `${MANY}`,
          reps,
        ]);
        rate.many.push(...many.samples as number[]);
        if (peer.id === "duct") {
          const both = await runClient([...peer.command, "latency", path, `${sizes.trips}`, reps]);
          plain.push(...both.plain as number[]);
          calls.duct.push(...both.rpc as number[]);
        }
        console.error(
          `rpc round ${round}/${sizes.rounds} ${peer.id}: ` +
            `${rate.single.slice(-sizes.reps).map(Math.round).join(" ")} calls/s (1 in flight), ` +
            `${rate.many.slice(-sizes.reps).map(Math.round).join(" ")} calls/s (${MANY} in flight)`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const latency: RpcResults["latency"] = {};
  if (calls.duct.length > 0) latency.duct = percentiles(calls.duct);
  if (plain.length > 0) latency["duct plain"] = percentiles(plain);
  if (calls[baseline].length > 0) latency[baseline] = percentiles(calls[baseline]);
  const rate = (peer: string, key: "single" | "many") =>
    rates[peer] === undefined ? null : median(rates[peer][key]);
  const over = (a: number | null, b: number | null) => a === null || b === null ? null : a / b;
  const many = over(rate("duct", "many"), rate(baseline, "many"));
  const single = over(rate("duct", "single"), rate(baseline, "single"));
  const p50 = over(latency.duct?.p50 ?? null, latency["duct plain"]?.p50 ?? null);
  // The issue's goals are set against vscode-jsonrpc on Unix; under Wine the ratios are shown.
  const goals = baseline === VSCODE;
  const targets: Target[] = [
    {
      target: `calls/s, ${MANY} in flight, duct ÷ ${baseline}`,
      ratio: many,
      goal: goals ? "≥ 2×" : "shown only",
      met: many === null || !goals ? null : many >= 2,
    },
    {
      target: `calls/s, 1 in flight, duct ÷ ${baseline}`,
      ratio: single,
      goal: "shown only",
      met: null,
    },
    {
      target: "single call p50 ÷ plain send+receive p50",
      ratio: p50,
      goal: goals ? "≤ 1.5×" : "shown only",
      met: p50 === null || !goals ? null : p50 <= 1.5,
    },
  ];
  return { sizes, rates, latency, targets, notes };
}

/**
 * The RPC part's tables, in markdown.
 *
 * @example
 * ```ts ignore
 * console.log(renderRpc(await runRpc(options)));
 * ```
 */
export function renderRpc(results: RpcResults): string {
  const out = [
    "JSON-RPC (content-length framing, 64-byte params, echo handler):",
    "",
    "| peer | calls/s, 1 in flight | calls/s, 100 in flight | single call p50 µs | p99 µs |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  const rows = new Set([...Object.keys(results.rates), ...Object.keys(results.latency)]);
  for (const row of ["duct", "duct plain", ...rows]) {
    if (!rows.has(row)) continue;
    rows.delete(row);
    const rate = results.rates[row];
    const time = results.latency[row];
    const label = row === "duct"
      ? "duct RpcPeer"
      : row === "duct plain"
      ? "duct send+receive"
      : row;
    out.push(
      `| ${label} | ${rate ? Math.round(median(rate.single)) : "–"} | ` +
        `${rate ? Math.round(median(rate.many)) : "–"} | ${time ? time.p50.toFixed(1) : "–"} | ` +
        `${time ? time.p99.toFixed(1) : "–"} |`,
    );
  }
  out.push("", "Targets (issue 21):", "", "| target | goal | measured | verdict |");
  out.push("| --- | --- | ---: | ---: |");
  for (const t of results.targets) {
    const verdict = t.met === null ? "–" : t.met ? "met" : "MISSED";
    out.push(
      `| ${t.target} | ${t.goal} | ${
        t.ratio === null ? "n/a" : `${t.ratio.toFixed(2)}×`
      } | ${verdict} |`,
    );
  }
  for (const note of results.notes) out.push("", note);
  return out.join("\n");
}

/** p50 and p99 of some times in ms, in µs. */
function percentiles(ms: number[]): { p50: number; p99: number; calls: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000;
  return { p50: at(0.5), p99: at(0.99), calls: sorted.length };
}

/** Longest a client may run before its figure is given up. */
const CLIENT_TIMEOUT_MS = 120_000;
/** Longest a server may take to say it listens. */
const READY_TIMEOUT_MS = 30_000;
const ENV = { NO_COLOR: "1" };

async function runClient(command: string[]): Promise<Record<string, unknown>> {
  const child = spawnDriver(command, ENV, label(command));
  try {
    return await child.next(CLIENT_TIMEOUT_MS);
  } finally {
    await child.stop();
  }
}

async function startServer(command: string[]): Promise<{ stop(): Promise<void> }> {
  const child = spawnDriver(command, ENV, label(command));
  await child.next(READY_TIMEOUT_MS);
  return { stop: () => child.stop() };
}

// The driver and its arguments, for errors.
function label(command: string[]): string {
  return command.slice(command.findIndex((arg) => /\.(ts|mjs)$/.test(arg))).join(" ");
}

function here(relative: string): string {
  return fromFileUrl(new URL(relative, import.meta.url));
}
