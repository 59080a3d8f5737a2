/**
 * Facts about GitHub Actions that the workflow rules check against: the GitHub-hosted runner
 * labels in service (and the duct target each runs), the retired ones, and the first major
 * version of each action that runs on Node 24. Update them here when GitHub changes them.
 *
 * @module
 */

import type { Target } from "./targets.ts";

/**
 * GitHub-hosted runner labels in service, each with the duct target it runs natively
 * (`undefined`: a platform duct ships nothing for). From GitHub's "GitHub-hosted runners"
 * reference and actions/runner-images; `-latest` labels move, the others are fixed images.
 */
export const RUNNER_LABELS: Readonly<Record<string, Target | undefined>> = {
  "ubuntu-latest": "x86_64-unknown-linux-gnu",
  "ubuntu-26.04": "x86_64-unknown-linux-gnu",
  "ubuntu-24.04": "x86_64-unknown-linux-gnu",
  "ubuntu-22.04": "x86_64-unknown-linux-gnu",
  "ubuntu-slim": undefined, // a one-CPU container
  "ubuntu-26.04-arm": "aarch64-unknown-linux-gnu",
  "ubuntu-24.04-arm": "aarch64-unknown-linux-gnu",
  "ubuntu-22.04-arm": "aarch64-unknown-linux-gnu",
  "macos-latest": "aarch64-apple-darwin",
  "macos-26": "aarch64-apple-darwin",
  "macos-15": "aarch64-apple-darwin",
  "macos-14": "aarch64-apple-darwin",
  "macos-26-intel": "x86_64-apple-darwin",
  "macos-15-intel": "x86_64-apple-darwin",
  "macos-latest-large": "x86_64-apple-darwin",
  "macos-15-large": "x86_64-apple-darwin",
  "macos-14-large": "x86_64-apple-darwin",
  "macos-latest-xlarge": "aarch64-apple-darwin",
  "macos-15-xlarge": "aarch64-apple-darwin",
  "macos-14-xlarge": "aarch64-apple-darwin",
  "windows-latest": "x86_64-pc-windows-msvc",
  "windows-2025": "x86_64-pc-windows-msvc",
  "windows-2022": "x86_64-pc-windows-msvc",
  "windows-11-arm": undefined, // aarch64-pc-windows-msvc: duct ships x64 only
};

/** Labels GitHub has retired: a job that asks for one never starts. */
export const RETIRED_RUNNER_LABELS: readonly string[] = [
  "ubuntu-18.04",
  "ubuntu-20.04",
  "macos-10.15",
  "macos-11",
  "macos-12",
  "macos-13",
  "macos-13-large",
  "macos-13-xlarge",
  "windows-2016",
  "windows-2019",
];

/**
 * The first major version of each action used here whose `action.yml` says `using: node24`
 * (read from the actions' tags; a major tag such as `v2` moves to its newest release).
 */
export const NODE24_MAJORS: Readonly<Record<string, number>> = {
  "actions/checkout": 5,
  "actions/upload-artifact": 6,
  "actions/download-artifact": 7,
  "actions/cache": 5,
  "denoland/setup-deno": 2,
  "softprops/action-gh-release": 3,
};
