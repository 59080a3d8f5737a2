/**
 * Turns the samples into figures, ratios and the targets of issues 4 and 10, as markdown tables (printed,
 * and pasted into `bench/README.md`) and as the data of `bench/results.json`.
 *
 * @module
 */

import type { Peer, Workload, WorkloadId } from "./_plan.ts";

/** The measured figure of one peer in one workload. */
export interface Figure {
  /** Median of `samples`, in the workload's unit. */
  median: number;
  /** One value per repetition, in the workload's unit. */
  samples: number[];
  /** Footprint only: server RSS before any client connected, MiB (median). */
  baseline?: number;
  /** Footprint only: server threads before and with the idle clients, where the OS shows them. */
  threads?: { idle: number | null; loaded: number | null };
}

/** Figures by workload, then by peer; a string is why the figure is missing. */
export type Figures = Partial<Record<WorkloadId, Record<string, Figure | string>>>;

/** One target of issues 4 and 10, checked against this run. */
export interface Target {
  target: string;
  /** The ratio measured, or `null` if a figure is missing. */
  ratio: number | null;
  goal: string;
  /** `true` met, `false` missed, `null` not measurable in this run or informative only. */
  met: boolean | null;
}

/**
 * Median of some numbers.
 *
 * @example
 * ```ts
 * import { median } from "./_report.ts";
 * console.log(median([5, 1, 3, 2])); // 2.5
 * ```
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A figure for display: `12.3`, `1.25 M`, `830 k`.
 *
 * @example
 * ```ts
 * import { formatValue } from "./_report.ts";
 * console.log(formatValue(1_234_567, "msg/s")); // "1.23 M"
 * ```
 */
export function formatValue(value: number, unit: string): string {
  if (unit === "msg/s") {
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(0)} k`;
    return value.toFixed(0);
  }
  if (unit === "GB/s") return value.toFixed(value < 0.1 ? 3 : 2);
  return value.toFixed(1);
}

/**
 * How many times better duct is than `other` (above 1: duct is better), or `null`.
 *
 * @example
 * ```ts
 * import { advantage } from "./_report.ts";
 * console.log(advantage({ median: 10, samples: [10] }, { median: 30, samples: [30] }, true)); // 3
 * ```
 */
export function advantage(
  duct: Figure | string | undefined,
  other: Figure | string | undefined,
  lowerIsBetter: boolean,
): number | null {
  if (typeof duct !== "object" || typeof other !== "object") return null;
  return lowerIsBetter ? other.median / duct.median : duct.median / other.median;
}

/**
 * The targets of issues 4 and 10 for this platform, checked against the figures.
 *
 * @example
 * ```ts
 * import { targets } from "./_report.ts";
 * console.log(targets({}, false)[0].met); // null: nothing measured
 * ```
 */
export function targets(figures: Figures, windows: boolean): Target[] {
  const ratio = (workload: WorkloadId, a: string, b: string): number | null => {
    const x = figures[workload]?.[a];
    const y = figures[workload]?.[b];
    return typeof x === "object" && typeof y === "object" ? x.median / y.median : null;
  };
  const atMost = (target: string, value: number | null, limit: number): Target => ({
    target,
    ratio: value,
    goal: `≤ ${limit}×`,
    met: value === null ? null : value <= limit,
  });
  const atLeast = (target: string, value: number | null, limit: number): Target => ({
    target,
    ratio: value,
    goal: `≥ ${limit}×`,
    met: value === null ? null : value >= limit,
  });
  if (windows) {
    const net = "deno_node_net";
    const list = [
      atMost("round trip, duct ÷ node:net pipe", ratio("rtt", "duct", net), 0.6),
      atLeast("echo, duct ÷ node:net pipe", ratio("echo", "duct", net), 2),
      atLeast("one-way, duct ÷ node:net pipe", ratio("one-way", "duct", net), 2),
      atLeast("bulk, duct ÷ node:net pipe", ratio("bulk", "duct", net), 2),
    ];
    const foot = figures.footprint?.duct;
    const threads = typeof foot === "object" ? foot.threads : undefined;
    const known = threads?.idle != null && threads?.loaded != null;
    list.push({
      target: "server threads: idle → with the clients",
      ratio: known ? threads!.loaded! / threads!.idle! : null,
      goal: "no growth (≤ +4 threads)",
      met: known ? threads!.loaded! <= threads!.idle! + 4 : null,
    });
    return list;
  }
  const inverse = (value: number | null) => value === null ? null : 1 / value;
  return [
    atMost("round trip, duct ÷ Deno raw", ratio("rtt", "duct", "deno_raw"), 1.1),
    atLeast(
      "echo, duct ÷ Deno raw (1 write per message)",
      ratio("echo", "duct", "deno_raw"),
      3,
    ),
    atLeast("bulk, duct receive() ÷ Deno raw", ratio("bulk", "duct", "deno_raw"), 0.6),
    atLeast("bulk, duct receiveInto() ÷ Deno raw", ratio("bulk", "duct_into", "deno_raw"), 0.9),
    atLeast(
      "one-way, duct ÷ Deno raw (1 write per message)",
      ratio("one-way", "duct", "deno_raw"),
      3,
    ),
    {
      target: "one-way, duct ÷ Deno raw ceiling (all bytes in 1 write)",
      ratio: ratio("one-way", "duct", "deno_raw_once"),
      goal: "shown only",
      met: null,
    },
    atLeast("round trip, node-ipc ÷ duct", inverse(ratio("rtt", "duct", "node_ipc")), 2),
    atLeast("echo, duct ÷ node-ipc", ratio("echo", "duct", "node_ipc"), 2),
    atLeast("one-way, duct ÷ node-ipc", ratio("one-way", "duct", "node_ipc"), 2),
    atLeast("bulk, duct ÷ node-ipc", ratio("bulk", "duct", "node_ipc"), 2),
    atLeast("fan-in, duct ÷ node-ipc", ratio("fanin", "duct", "node_ipc"), 2),
  ];
}

/**
 * The three markdown tables: figures, duct's advantage over each peer, targets.
 *
 * @example
 * ```ts ignore
 * console.log(renderTables(figures, workloads, peers, targets(figures, false)));
 * ```
 */
export function renderTables(
  figures: Figures,
  workloads: Workload[],
  peers: Peer[],
  checked: Target[],
): string {
  const out: string[] = [];
  const header = (cells: string[]) => {
    out.push(`| ${cells.join(" | ")} |`);
    out.push(`|${cells.map((_, i) => i < 2 ? " --- " : " ---: ").join("|")}|`);
  };
  header(["workload", "unit", ...peers.map((peer) => peer.label)]);
  for (const workload of workloads) {
    const row = figures[workload.id] ?? {};
    const cells = peers.map((peer) => {
      const figure = row[peer.id];
      if (figure === undefined) return "–";
      if (typeof figure === "string") return "failed";
      return formatValue(figure.median, workload.unit);
    });
    out.push(`| ${workload.title} | ${workload.unit} | ${cells.join(" | ")} |`);
  }
  const others = peers.filter((peer) => peer.id !== "duct");
  out.push("", "How many times better duct is than each peer (above 1: duct is better):", "");
  header(["workload", "", ...others.map((peer) => peer.label)]);
  for (const workload of workloads) {
    const row = figures[workload.id] ?? {};
    const cells = others.map((peer) => {
      const value = advantage(row.duct, row[peer.id], workload.lowerIsBetter);
      return value === null ? "–" : `${value.toFixed(2)}×`;
    });
    out.push(`| ${workload.title} | | ${cells.join(" | ")} |`);
  }
  out.push("", "Targets (issues 4 and 10):", "");
  header(["target", "goal", "measured", "verdict"]);
  for (const target of checked) {
    const verdict = target.met === null ? "–" : target.met ? "met" : "MISSED";
    const measured = target.ratio === null ? "n/a" : `${target.ratio.toFixed(2)}×`;
    out.push(`| ${target.target} | ${target.goal} | ${measured} | ${verdict} |`);
  }
  return out.join("\n");
}
