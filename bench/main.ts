/**
 * duct's benchmark harness (issues 4 and 10): every workload for duct and for its peers in one run, one
 * table of absolute figures and ratios, and `bench/results.json`.
 *
 * ```sh
 * deno task bench            # full run: 3 interleaved rounds × 5 repetitions
 * deno task bench --quick    # smoke run, under a minute
 * deno task bench --only=rtt,bulk --peers=duct,deno_raw --out=/tmp/r.json
 * ```
 *
 * Each (workload, peer) pair gets its own server and client processes; every figure is the
 * median of its repetitions. Rounds interleave the peers so that load from other programs on the
 * machine spreads over all of them instead of spoiling one.
 *
 * @module
 */

import { fromFileUrl } from "@std/path";
import { parseArgs, UsageError } from "../cli/args.ts";
import { EXIT_USAGE } from "../cli/exit_codes.ts";
import { installPeers, PEERS_FOLDER } from "./_install.ts";
import { NODE_IPC_VERSION, type Peer, peers, sizes, type Skipped, type Workload } from "./_plan.ts";
import { type Figure, type Figures, median, renderTables, targets } from "./_report.ts";
import { renderRpc, type RpcResults, rpcSizes, runRpc } from "./_rpc.ts";
import { runClient, type Runtimes, startIdle, startServer } from "./_spawn.ts";

const MiB = 1024 * 1024;
/** Time the server gets to settle with its idle clients before its memory is read. */
const SETTLE_MS = 500;

interface Options {
  quick: boolean;
  only: string[] | undefined;
  peers: string[] | undefined;
  out: string;
}

/**
 * Parses the harness's command line.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./main.ts";
 * console.log(parseOptions(["--quick", "--only=rtt"]).only); // ["rtt"]
 * ```
 */
export function parseOptions(args: string[]): Options {
  const options: Options = {
    quick: false,
    only: undefined,
    peers: undefined,
    // Windows figures (Wine) are kept apart, so that they never replace the Unix ones.
    out: fromFileUrl(
      new URL(
        Deno.build.os === "windows" ? "./results-windows.json" : "./results.json",
        import.meta.url,
      ),
    ),
  };
  const { values } = parseArgs(args, {
    quick: { type: "boolean" },
    only: { type: "string" },
    peers: { type: "string" },
    out: { type: "string" },
  });
  options.quick = values.quick === true;
  if (typeof values.only === "string") options.only = values.only.split(",");
  if (typeof values.peers === "string") options.peers = values.peers.split(",");
  if (typeof values.out === "string") options.out = values.out;
  return options;
}

const HELP = `Usage: deno task bench [--quick] [--only=IDS] [--peers=IDS] [--out=FILE]

Runs every workload for duct and its peers in one run, prints absolute figures and ratios, and
writes them to bench/results.json (bench/results-windows.json on Windows).

Options:
  --quick        fewer and smaller repetitions: a smoke run of under a minute
  --only=IDS     comma-separated workload ids to run (default: all): rtt, echo,
                 one-way, bulk, fanin, footprint, rpc (JSON-RPC calls and latency)
  --peers=IDS    comma-separated peer ids to run (default: all available)
  --out=FILE     where to write the JSON results
  -h, --help     show this help and exit`;

async function main(): Promise<number> {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let options: Options;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: error: ${error.message} (see --help)`);
    return EXIT_USAGE;
  }
  const windows = Deno.build.os === "windows";
  const plan = sizes({ quick: options.quick, windows });
  const workloads = plan.workloads.filter((w) => options.only?.includes(w.id) ?? true);
  const chosen = peers(windows);
  const skipped: Skipped[] = [...chosen.skipped];
  let run = chosen.run.filter((peer) => options.peers?.includes(peer.id) ?? true);

  const node = windows ? undefined : await version("node");
  if (node === undefined && !windows) {
    for (const peer of run.filter((p) => p.runtime === "node")) {
      skipped.push({ peer: peer.id, reason: "no `node` on PATH" });
    }
    run = run.filter((peer) => peer.runtime !== "node");
  }
  if (run.some((peer) => peer.npm)) {
    const problem = await installPeers("npm");
    if (problem !== undefined) {
      for (const peer of run.filter((p) => p.npm)) skipped.push({ peer: peer.id, reason: problem });
      run = run.filter((peer) => !peer.npm);
    }
  }
  const runtimes: Runtimes = {
    deno: Deno.execPath(),
    node: node === undefined ? undefined : "node",
    env: { DUCT_BENCH_PEERS: fromFileUrl(PEERS_FOLDER).replace(/[\\/]$/, ""), NO_COLOR: "1" },
  };

  const folder = windows ? undefined : await Deno.makeTempDir({ prefix: "duct-bench-" });
  const endpoint = (peer: Peer, workload: Workload, round: number) =>
    folder === undefined
      ? `\\\\.\\pipe\\duct-bench-${Deno.pid}-${peer.id}-${workload.id}-${round}`
      : `${folder}/${peer.id}-${workload.id}-${round}.sock`;

  const samples = new Map<string, Figure[]>();
  const failures = new Map<string, string>();
  const started = performance.now();
  let rpc: RpcResults | string | undefined;
  try {
    for (let round = 1; round <= plan.rounds; round++) {
      for (const workload of workloads) {
        for (const peer of run.filter((p) => p.workloads.includes(workload.id))) {
          const key = `${workload.id}/${peer.id}`;
          if (failures.has(key)) continue;
          const label = `round ${round}/${plan.rounds} ${workload.id} ${peer.id}`;
          try {
            const figure = await measure(runtimes, peer, workload, endpoint(peer, workload, round));
            samples.set(key, [...samples.get(key) ?? [], figure]);
            const shown = figure.samples.map((value) => value.toPrecision(4)).join(" ");
            console.error(`${label}: ${shown} ${workload.unit}`);
          } catch (error) {
            failures.set(key, error instanceof Error ? error.message : String(error));
            console.error(`${label}: FAILED ${failures.get(key)}`);
          }
        }
      }
    }
    if (options.only?.includes("rpc") ?? true) {
      // vscode-jsonrpc is one of the npm peers: installed (once) only when Node can run it. On
      // Windows the baseline is node:net in Deno, which needs neither.
      const npm = node === undefined ? "no node" : await installPeers("npm");
      try {
        rpc = await runRpc({
          sizes: rpcSizes(options.quick),
          node: npm === undefined ? runtimes.node : undefined,
          folder,
        });
      } catch (error) {
        rpc = error instanceof Error ? error.message : String(error);
        console.error(`rpc: FAILED ${rpc}`);
      }
    }
  } finally {
    if (folder !== undefined) await Deno.remove(folder, { recursive: true }).catch(() => {});
  }

  const figures: Figures = {};
  for (const workload of workloads) {
    const row: Record<string, Figure | string> = figures[workload.id] = {};
    for (const peer of run) {
      const key = `${workload.id}/${peer.id}`;
      const failed = failures.get(key);
      const parts = samples.get(key);
      if (failed !== undefined) row[peer.id] = failed;
      else if (parts !== undefined) row[peer.id] = combine(parts);
    }
  }
  const checked = targets(figures, windows);
  const machine = await describeMachine();
  const reps = workloads[0]?.params.reps ?? 0;
  const method = `median of ${plan.rounds} interleaved round(s) × ${reps} repetitions ` +
    `(footprint: 1 per round), each after one discarded warm-up`;
  const shownPeers = run.filter((peer) => workloads.some((w) => peer.workloads.includes(w.id)));
  console.log(
    `\nduct benchmark: ${machine.os} ${machine.arch}, ${machine.cpus} CPUs (${machine.cpuModel}), ` +
      `Deno ${Deno.version.deno}${node ? `, Node ${node}` : ""}; ` +
      `${options.quick ? "quick" : "full"} run, ${method}.` +
      (windows ? " Windows under Wine: compare ratios only.\n" : "\n"),
  );
  if (workloads.length > 0) console.log(renderTables(figures, workloads, shownPeers, checked));
  for (const skip of skipped) {
    const where = skip.workloads ? ` (${skip.workloads.join(", ")})` : "";
    console.log(`\nskipped ${skip.peer}${where}: ${skip.reason}`);
  }
  for (const [key, message] of failures) console.log(`\nfailed ${key}: ${message}`);
  if (typeof rpc === "object") console.log(`\n${renderRpc(rpc)}`);
  else if (rpc !== undefined) console.log(`\nfailed rpc: ${rpc}`);

  const results = {
    generated: new Date().toISOString(),
    mode: options.quick ? "quick" : "full",
    platform: windows ? "windows" : "unix",
    method,
    seconds: Math.round((performance.now() - started) / 1000),
    machine,
    deno: Deno.version,
    node: node ?? null,
    nodeIpc: NODE_IPC_VERSION,
    workloads: workloads.map(({ id, title, unit, lowerIsBetter, params }) => ({
      id,
      title,
      unit,
      lowerIsBetter,
      params,
    })),
    peers: shownPeers.map(({ id, label, runtime }) => ({ id, label, runtime })),
    skipped,
    figures,
    targets: checked,
    rpc: rpc ?? null,
  };
  await Deno.writeTextFile(options.out, JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwrote ${options.out}`);
  const ductFailed = [...failures.keys()].some((key) => key.endsWith("/duct"));
  return ductFailed || typeof rpc === "string" ? 1 : 0;
}

/** Runs one (workload, peer) pair once: its own server, its own client. */
async function measure(
  runtimes: Runtimes,
  peer: Peer,
  workload: Workload,
  path: string,
): Promise<Figure> {
  const server = await startServer(runtimes, peer, workload.server, path, peer.server);
  try {
    const count = Math.max(1, Math.round(workload.params.count / (peer.fewer?.[workload.id] ?? 1)));
    const params = { ...workload.params, count, write: peer.write ?? "each" } as const;
    if (workload.client !== "idle") {
      let values = await runClient(runtimes, peer, workload.client, path, params);
      // Streams report messages per second; bulk is shown in GB/s.
      if (workload.unit === "GB/s") values = values.map((v) => (v * params.size) / 1e9);
      return { median: median(values), samples: values };
    }
    const before = await server.stats();
    const idle = startIdle(runtimes, peer, path, params);
    try {
      await idle.next();
      for (let waited = 0; (await server.stats()).connections < params.clients; waited += 50) {
        if (waited > 30_000) throw new Error("the server did not accept every idle client");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const after = await server.stats();
      return {
        median: after.rss / MiB,
        samples: [after.rss / MiB],
        baseline: before.rss / MiB,
        threads: { idle: before.threads, loaded: after.threads },
      };
    } finally {
      await idle.stop();
    }
  } finally {
    await server.stop();
  }
}

/** Joins the figures of several rounds into one. */
function combine(parts: Figure[]): Figure {
  const values = parts.flatMap((part) => part.samples);
  const figure: Figure = { median: median(values), samples: values };
  const baselines = parts.flatMap((part) => part.baseline ?? []);
  if (baselines.length > 0) figure.baseline = median(baselines);
  if (parts[0].threads !== undefined) figure.threads = parts[parts.length - 1].threads;
  return figure;
}

async function version(command: string): Promise<string | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, { args: ["--version"] }).output();
    return success ? new TextDecoder().decode(stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

async function describeMachine() {
  let cpuModel = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
  } catch {
    // Not Linux.
  }
  let memory: number | null = null;
  try {
    memory = Math.round(Deno.systemMemoryInfo().total / MiB);
  } catch {
    // Not available here.
  }
  let load: number[] | null = null;
  try {
    load = Deno.loadavg();
  } catch {
    // Not available here.
  }
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    osRelease: Deno.osRelease(),
    cpus: navigator.hardwareConcurrency,
    cpuModel,
    memoryMiB: memory,
    loadAverage: load,
  };
}

if (import.meta.main) Deno.exit(await main());
