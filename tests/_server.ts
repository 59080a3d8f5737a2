/**
 * `server.ts` as a subprocess: started and waited for until it listens, its output events
 * counted and waited for, killed and its socket file removed when the test is done.
 *
 * @module
 */

import { assert } from "./_assert.ts";
import { removeSocketFile, uniqueName } from "./_endpoints.ts";
import { type Event, Proc, type ProcOptions, SERVER_SCRIPT } from "./_process.ts";

/**
 * The event of a line of human output, recognised well enough to count events:
 * `client 3 connected`, `client 3: hi`.
 */
function parseHumanLine(line: string): Event | undefined {
  const match = /^client (\d+)(:| (connected|disconnected|error|refused))/.exec(line);
  if (match === null) return undefined;
  return { event: match[2] === ":" ? "message" : match[3], client: Number(match[1]) };
}

/** Options of {@linkcode Server.start}. */
export interface ServerOptions extends Omit<ProcOptions, "command" | "stdin"> {
  /** Endpoint name, unless `args` has a `--name`; default a fresh {@linkcode uniqueName}. */
  name?: string;
  /** Print JSON events (`--json`, the default) or human lines. */
  json?: boolean;
  /** Wait for the server to listen. Default `true`. */
  waitListening?: boolean;
  /** Run under this umask (through `/bin/sh`, which then becomes the server: same pid). */
  umask?: number;
}

/**
 * A running `server.ts`.
 *
 * @example
 * ```ts ignore
 * await using server = await Server.start(["--reply", "echo"]);
 * const output = await runClient(["--name", server.name, "hello"]);
 * ```
 */
export class Server extends Proc {
  /** The endpoint name. */
  readonly name: string;
  readonly #json: boolean;

  private constructor(args: string[], name: string, json: boolean, options: ProcOptions) {
    super(args, options);
    this.name = name;
    this.#json = json;
  }

  /** Starts `server.ts [--name NAME] [--json] ARGS…` and, by default, waits until it listens. */
  static async start(args: string[] = [], options: ServerOptions = {}): Promise<Server> {
    const given = args.indexOf("--name");
    const name = given >= 0 ? args[given + 1] : options.name ?? uniqueName("srv");
    const json = options.json ?? true;
    const deno = [
      "run",
      "-A",
      ...options.denoArgs ?? [],
      SERVER_SCRIPT,
      ...(given >= 0 ? [] : ["--name", name]),
      ...(json ? ["--json"] : []),
      ...args,
    ];
    const { umask, ...rest } = { ...options, parse: json ? undefined : parseHumanLine };
    const server = umask === undefined ? new Server(deno, name, json, rest) : new Server(
      [
        "-c",
        `umask ${umask.toString(8).padStart(3, "0")}; exec "$@"`,
        "sh",
        Deno.execPath(),
        ...deno,
      ],
      name,
      json,
      { ...rest, command: "/bin/sh" },
    );
    if (options.waitListening ?? true) {
      try {
        await server.until(() => server.#listening() !== undefined, "the server to listen");
      } catch (error) {
        await server[Symbol.asyncDispose]();
        throw error;
      }
    }
    return server;
  }

  /** The endpoint's OS path (socket file or `\\.\pipe\…`), as the server reported it. */
  get path(): string {
    const path = this.#listening();
    assert(path !== undefined, "the server has not reported its path");
    return path;
  }

  /** The JSON events of one kind (optionally of one client). */
  eventsOf(kind: string, client?: number): Event[] {
    return this.events.filter((e) =>
      e.event === kind && (client === undefined || e.client === client)
    );
  }

  /** The number of events of one kind (optionally of one client). */
  count(kind: string, client?: number): number {
    return this.eventsOf(kind, client).length;
  }

  /** The texts of one client's messages, in printed order. */
  textsOf(client: number): string[] {
    return this.eventsOf("message", client).map((e) => String(e.text));
  }

  /** The events of one client. */
  of(client: number): Event[] {
    return this.events.filter((event) => event.client === client);
  }

  /** Resolves once `count` events of `kind` have been printed. */
  async waitForCount(kind: string, count: number): Promise<void> {
    await this.until(() => this.count(kind) >= count, `${count} "${kind}" events`);
  }

  /** Kills the server if it still runs; removes the socket file a killed server leaves. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await super[Symbol.asyncDispose]();
    const path = this.#listening();
    if (path !== undefined) await removeSocketFile(path);
  }

  /** The path of the `listening` event (`listening on NAME (PATH)` in human output). */
  #listening(): string | undefined {
    if (this.#json) {
      const path = this.events.find((event) => event.event === "listening")?.path;
      return path === undefined ? undefined : String(path);
    }
    for (const line of this.lines) {
      const match = /^listening on .* \((.*)\)$/.exec(line);
      if (match !== null) return match[1];
    }
    return undefined;
  }
}
