// Fetches npm packages into the build cache without installing it: `npm pack` downloads the tarball (no
// lifecycle scripts run, unlike `npm install`, whose postinstall steps fail on these machines) and `tar` unpacks it.
//
//   node fetch.mjs [--error-file=<path>] <cacheDir> <package>@<version> [<package>@<version> ...]
//
// Result per package: <cacheDir>/<name>-<version>/ holding the tarball's `package/` contents plus a `.webconsole-fetched` stamp.
// The folder appears in one rename, after extraction finished, so a folder that exists is complete; concurrent builds
// each work in their own temporary folder and the loser of the rename race throws its copy away.
// The first failure stops the run with exit code 1 and one line, "WC000n <message>" (WC0001 npm missing, WC0002
// registry unreachable, WC0003 anything else), printed and written to --error-file, which NpmFetch.targets turns into
// the build error.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const STAMP = ".webconsole-fetched";
const NETWORK_CODES = [
  "ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH",
  "ERR_SOCKET_TIMEOUT", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT",
];

class FetchError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const args = process.argv.slice(2);
const errorFile = args[0]?.startsWith("--error-file=") ? args.shift().slice("--error-file=".length) : undefined;
try {
  const [cacheArg, ...specs] = args;
  if (!cacheArg || specs.length === 0) {
    throw new FetchError("WC0003", "usage: node fetch.mjs [--error-file=<path>] <cacheDir> <package>@<version> [...]");
  }

  for (const spec of specs) {
    // The version follows the last "@"; a leading "@" belongs to a scope.
    const at = spec.lastIndexOf("@");
    if (at <= 0) {
      throw new FetchError("WC0003", `"${spec}" is not <package>@<version>`);
    }
    fetchPackage(resolve(cacheArg), spec.slice(0, at), spec.slice(at + 1));
  }
} catch (error) {
  const code = error instanceof FetchError ? error.code : "WC0003";
  const line = `${code} ${String(error.message).replace(/\s+/g, " ").trim()}`;
  console.log(line);
  if (errorFile) {
    mkdirSync(dirname(resolve(errorFile)), { recursive: true });
    writeFileSync(errorFile, line);
  }
  process.exitCode = 1;
}

function fetchPackage(cacheDir, pkg, version) {
  const spec = `${pkg}@${version}`;
  // Scoped names (@scope/name) become scope+name so the folder stays one level deep.
  const target = join(cacheDir, `${pkg.replace(/^@/, "").replace("/", "+")}-${version}`);
  if (existsSync(join(target, STAMP))) {
    return;
  }

  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, ".tmp-"));
  try {
    const tarball = pack(spec, work);
    const unpacked = join(work, "x");
    mkdirSync(unpacked);
    // The system tar (GNU tar on Linux, bsdtar on macOS and Windows 10+) keeps this script free of dependencies.
    const tar = spawnSync("tar", ["-xzf", join(work, tarball), "-C", unpacked], { encoding: "utf8" });
    if (tar.error || tar.status !== 0) {
      throw new FetchError("WC0003", `could not extract ${tarball}: ${tar.error?.message ?? tar.stderr}`);
    }

    // npm tarballs hold one top-level folder, almost always `package/`.
    const roots = readdirSync(unpacked);
    const root = roots.length === 1 ? join(unpacked, roots[0]) : unpacked;
    writeFileSync(join(root, STAMP), `${spec}\n${tarball}\n${new Date().toISOString()}\n`);
    try {
      renameSync(root, target);
    } catch (error) {
      // Another build finished first: its copy is complete, ours is redundant.
      if (!existsSync(join(target, STAMP))) {
        throw new FetchError("WC0003", `could not move ${spec} into ${target}: ${error.message}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Runs `npm pack` into `work` and returns the tarball's file name.
function pack(spec, work) {
  const windows = process.platform === "win32";
  const result = spawnSync(windows ? "npm.cmd" : "npm", [
    "pack", spec, "--pack-destination", work, "--ignore-scripts",
    // npm's default backoff takes over a minute per package to give up on an unreachable registry.
    "--fetch-retries=2", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=10000",
  ], {
    encoding: "utf8",
    shell: windows,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new FetchError("WC0001", `npm could not be started (${result.error.message}): install Node.js 20 with npm (needed to fetch ${spec})`);
  }
  if (result.status !== 0) {
    const lines = (result.stderr || "")
      .split("\n")
      .filter((line) => /^npm (error|ERR!)/.test(line))
      .map((line) => line.replace(/^npm (error|ERR!)\s*/, "").trim())
      .filter((line) => line && !/^(syscall|errno) |complete log of this run/i.test(line));
    const text = lines.slice(0, 2).join(" | ") || `npm pack exited with code ${result.status}`;
    const network = NETWORK_CODES.some((code) => text.includes(code)) || /network|timed? ?out|socket|proxy/i.test(text);
    if (network) {
      throw new FetchError("WC0002", `the npm registry could not be reached while fetching ${spec}: ${text}`);
    }
    throw new FetchError("WC0003", `npm could not fetch ${spec}: ${text}`);
  }

  const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
  if (!tarball) {
    throw new FetchError("WC0003", `npm pack ${spec} produced no tarball`);
  }
  return tarball;
}
