// The `pyrelo` executable as one file, dist/pyrelo.mjs (package.json "bin"), run by `npm run build`
// after tsc. Loading ~90 compiled modules one by one was a large part of a warm `pyrelo check`
// (bench/check, README "Benchmarks"); one file loads in one read and one compile. Only what cli.ts
// imports statically is inside (check, inventory, the option parsing of every command); the
// commands cli.ts loads on use (server, agent, build, deploy, …) stay the compiled modules of
// dist/src, imported from the bundle by their path, so worker threads that run their own module
// file (server, agent) keep finding it. npm packages load from node_modules, but for BUNDLED_PACKAGES.
//
//   node scripts/bundle-cli.mjs          (after tsc; writes dist/pyrelo.mjs)

import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'client', 'main.js');
const outfile = join(root, 'dist', 'pyrelo.mjs');

// Bundled modules that find files from their own location (import.meta.url) must work from
// dist/pyrelo.mjs: these look upward for package.json or data/, or carry a digest defined below.
const LOCATION_AWARE = new Set(['src/common/package-files.js', 'src/common/version.js', 'src/loader/parse-cache.js']);

/**
 * npm packages bundled all the same: pure ES modules of several files whose classes nothing tests
 * with instanceof across the two copies (smol-toml: 9 modules). The others (commander, whose
 * CommanderError cli.ts tests; better-sqlite3, native) load from node_modules.
 */
const BUNDLED_PACKAGES = new Set(['smol-toml']);

/**
 * import('./x.js') of a compiled module stays an import, of its path from dist/pyrelo.mjs; npm
 * packages stay imports unless BUNDLED_PACKAGES.
 */
const commandsOnUse = {
  name: 'commands-on-use',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = relative(dirname(outfile), resolve(args.resolveDir, args.path));
      return { path: `./${target}`, external: true };
    });
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('node:') || BUNDLED_PACKAGES.has(args.path)
        ? undefined
        : { path: args.path, external: true },
    );
  },
};

// The parse cache's rows are keyed by the digest of the ELF reader and loader code (parse-cache.ts);
// the bundle holds that code, built from these very folders.
const { readerCodeDigest } = await import(join(root, 'dist', 'src', 'loader', 'parse-cache.js'));

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [commandsOnUse],
  define: { PYRELO_READER_CODE_DIGEST: JSON.stringify(readerCodeDigest(join(root, 'dist', 'src', 'loader'))) },
  legalComments: 'none',
  metafile: true,
  write: false,
  logLevel: 'warning',
});

const distInputs = Object.keys(result.metafile.inputs).map((input) =>
  relative(join(root, 'dist'), resolve(root, input)),
);
const misplaced = distInputs.filter(
  (input) => !LOCATION_AWARE.has(input) && readFileSync(join(root, 'dist', input), 'utf8').includes('import.meta'),
);
if (misplaced.length > 0) {
  throw new Error(
    `bundle-cli: these modules find files from their own location and would look beside dist/pyrelo.mjs ` +
      `instead: ${misplaced.join(', ')} (load them on use, with import(), or teach them the bundle)`,
  );
}
// Written whole and renamed into place: a pyrelo started meanwhile runs the old file or the new one.
const staged = `${outfile}.${process.pid}.tmp`;
writeFileSync(staged, result.outputFiles[0].contents, { mode: 0o755 });
chmodSync(staged, 0o755);
renameSync(staged, outfile);
