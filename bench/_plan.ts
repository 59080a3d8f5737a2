/**
 * What the benchmark runs: the workloads, the peers, and the sizes of a full and a quick run.
 *
 * @module
 */

/** The version of node-ipc the harness installs (pinned in `bench/npm/package.json`). */
export const NODE_IPC_VERSION = "9.2.1";

/** A workload's identifier, in table order. */
export type WorkloadId = "rtt" | "echo" | "one-way" | "bulk" | "fanin" | "footprint";

/** Parameters handed to a client driver (see `peers/_driver.mjs`). */
export interface ClientParams {
  /** Payload bytes per message. */
  size: number;
  /** Messages per repetition (per connection for streams). */
  count: number;
  /** Connections at once. */
  clients: number;
  /** Measured repetitions after one warm-up. */
  reps: number;
  /** Unframed peers: one write per message, or all messages in one write. */
  write?: "each" | "once";
}

/** Options handed to a server driver. */
export interface ServerParams {
  /** duct only: read frames with `receive()` (a new buffer each) or `receiveInto()` (one reused). */
  receive?: "new" | "into";
}

/** One workload of issues 4 and 10. */
export interface Workload {
  id: WorkloadId;
  /** Row title in the table. */
  title: string;
  /** Unit of the reported figure. */
  unit: string;
  /** Whether a lower figure is better (time, memory). */
  lowerIsBetter: boolean;
  /** What the server does: answer every message, or count them. */
  server: "echo" | "sink";
  /** What the client driver does. */
  client: "rtt" | "echo" | "stream" | "idle";
  params: ClientParams;
}

/** One program measured: a driver in `bench/peers/` run by Deno or Node. */
export interface Peer {
  id: string;
  /** Column title in the table. */
  label: string;
  runtime: "deno" | "node";
  /** File name in `bench/peers/`. */
  driver: string;
  /** Workloads this peer takes part in. */
  workloads: WorkloadId[];
  /** Extra client parameters. */
  write?: "each" | "once";
  /** Extra server parameters. */
  server?: ServerParams;
  /** Needs the npm peers installed. */
  npm?: boolean;
  /**
   * Divides a workload's message count, for a peer so slow that the full count would take
   * minutes (its figure is a rate, so it stays comparable).
   */
  fewer?: Partial<Record<WorkloadId, number>>;
}

/** A peer that this run leaves out (in some workloads only, if given), and why. */
export interface Skipped {
  peer: string;
  workloads?: WorkloadId[];
  reason: string;
}

const ALL: WorkloadId[] = ["rtt", "echo", "one-way", "bulk", "fanin", "footprint"];

const PEERS: Peer[] = [
  { id: "duct", label: "duct", runtime: "deno", driver: "duct.ts", workloads: ALL },
  {
    id: "duct_into",
    label: "duct, receiveInto",
    runtime: "deno",
    driver: "duct.ts",
    workloads: ["bulk"],
    server: { receive: "into" },
  },
  { id: "deno_raw", label: "Deno raw", runtime: "deno", driver: "deno_raw.ts", workloads: ALL },
  {
    id: "deno_raw_once",
    label: "Deno raw, 1 write",
    runtime: "deno",
    driver: "deno_raw.ts",
    workloads: ["one-way"],
    write: "once",
  },
  { id: "node_net", label: "Node net", runtime: "node", driver: "node_net.mjs", workloads: ALL },
  {
    id: "deno_node_net",
    label: "Deno node:net",
    runtime: "deno",
    driver: "node_net.mjs",
    workloads: ALL,
  },
  {
    id: "node_ipc",
    label: `node-ipc ${NODE_IPC_VERSION}`,
    runtime: "node",
    driver: "node_ipc.mjs",
    workloads: ALL,
    npm: true,
    // About 2 MB/s: 1 MiB JSON strings are re-scanned as each piece of them arrives.
    fewer: { bulk: 32 },
  },
];

/** Peers that cannot run on Windows (under Wine), and why. */
const WINDOWS_SKIPPED: Skipped[] = [
  { peer: "deno_raw", reason: "Deno.listen has no named-pipe transport" },
  { peer: "deno_raw_once", reason: "Deno.listen has no named-pipe transport" },
  { peer: "node_net", reason: "Node is not part of the Windows (Wine) run" },
  { peer: "node_ipc", reason: "node-ipc needs Node, which is not part of the Windows run" },
  {
    peer: "deno_node_net",
    workloads: ["fanin", "footprint"],
    reason: "Deno's node:net named-pipe server takes at most 4 clients at once " +
      "(under Wine the 5th connect fails with ETIMEDOUT after 30 s)",
  },
];

/** Sizes of one run. */
export interface Sizes {
  /** Passes over every (workload, peer), interleaved, so that load from others spreads evenly. */
  rounds: number;
  workloads: Workload[];
}

/**
 * The workloads with their sizes for this platform and mode.
 *
 * @example
 * ```ts
 * import { sizes } from "./_plan.ts";
 * console.log(sizes({ quick: true, windows: false }).rounds); // 1
 * ```
 */
export function sizes(options: { quick: boolean; windows: boolean }): Sizes {
  const { quick, windows } = options;
  const reps = quick ? 3 : 5;
  const idle = windows ? 200 : 1000;
  const workloads: Workload[] = [
    {
      id: "rtt",
      title: "1 round trip, 64 B echo",
      unit: "µs/trip",
      lowerIsBetter: true,
      server: "echo",
      client: "rtt",
      params: { size: 64, count: quick ? 2_000 : 10_000, clients: 1, reps },
    },
    {
      id: "echo",
      title: "2 echo, 64 B, pipelined",
      unit: "msg/s",
      lowerIsBetter: false,
      server: "echo",
      client: "echo",
      params: { size: 64, count: quick ? 10_000 : 30_000, clients: 1, reps },
    },
    {
      id: "one-way",
      title: "3 one-way 64 B",
      unit: "msg/s",
      lowerIsBetter: false,
      server: "sink",
      client: "stream",
      params: { size: 64, count: quick ? 50_000 : 200_000, clients: 1, reps },
    },
    {
      id: "bulk",
      title: "4 bulk 1 MiB frames",
      unit: "GB/s",
      lowerIsBetter: false,
      server: "sink",
      client: "stream",
      params: { size: 1024 * 1024, count: quick ? 64 : 256, clients: 1, reps },
    },
    {
      id: "fanin",
      title: "5 fan-in 100 clients × 64 B",
      unit: "msg/s",
      lowerIsBetter: false,
      server: "sink",
      client: "stream",
      params: { size: 64, count: quick ? 500 : 2_000, clients: 100, reps },
    },
    {
      id: "footprint",
      title: `6 server RSS, ${idle} idle clients`,
      unit: "MiB",
      lowerIsBetter: true,
      server: "echo",
      client: "idle",
      params: { size: 0, count: 0, clients: idle, reps: 1 },
    },
  ];
  return { rounds: quick ? 1 : 3, workloads };
}

/**
 * The peers of this platform, and those left out with the reason.
 *
 * @example
 * ```ts
 * import { peers } from "./_plan.ts";
 * console.log(peers(true).run.map((peer) => peer.id)); // ["duct", "duct_into", "deno_node_net"]
 * ```
 */
export function peers(windows: boolean): { run: Peer[]; skipped: Skipped[] } {
  if (!windows) return { run: PEERS, skipped: [] };
  const run: Peer[] = [];
  for (const peer of PEERS) {
    const out = WINDOWS_SKIPPED.filter((skip) => skip.peer === peer.id).flatMap((skip) =>
      skip.workloads ?? ALL
    );
    const workloads = peer.workloads.filter((id) => !out.includes(id));
    // node:net pipes move about 20 MB/s of bulk data under Wine: fewer frames, same rate.
    const fewer = peer.id === "deno_node_net" ? { bulk: 16 } : peer.fewer;
    if (workloads.length > 0) run.push({ ...peer, workloads, fewer });
  }
  return { run, skipped: [...WINDOWS_SKIPPED] };
}
