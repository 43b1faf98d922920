// The bundle's name: the project it installs (README, "pyrelo build"). Known before the install
// where PROJECT says it (a pyproject.toml's `[project] name`, a wheel's file name, a requirement's
// name), so that a name that cannot be a bundle's stops the build before anything runs; the name
// as the installed METADATA spells it and the version come from what pip installed. A project
// that states its name nowhere pip does not read first (a setup.py folder, an sdist file) is found
// after the install by the direct_url.json pip writes for an install from a path (PEP 610).

import { existsSync, readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { bundleNameProblem, normalizeProjectName, projectNameProblem, quoteName } from '../bundle/bundle-name.js';
import type { InstalledPackage } from '../bundle/manifest.js';
import { BuildInputError } from './errors.js';

/** What PROJECT tells about its name before anything is installed. */
export type DeclaredProject =
  /**
   * The name is known: `from` says where it was read, for errors. `exact`: the name as the
   * project spells it ([project] name; backends may write it normalized into METADATA), else only
   * its normalized form counts (a wheel file name escapes "-", a requirement may differ in case).
   */
  | { readonly kind: 'name'; readonly name: string; readonly from: string; readonly exact: boolean }
  /** Only pip knows: found after the install by the path (or URL) pip installed from. */
  | { readonly kind: 'path'; readonly path: string; readonly from: string }
  | { readonly kind: 'url'; readonly url: string; readonly from: string };

function checkedProjectName(name: string, where: string): string {
  const problem = projectNameProblem(name);
  if (problem !== null) throw new BuildInputError(where, `name ${quoteName(name)}: ${problem}`);
  return name;
}

/**
 * The `[project]` table's name of a pyproject.toml, or null when it has none (a setup.py project,
 * Poetry 1's [tool.poetry]).
 */
function pyprojectName(file: string): string | null {
  let table: Record<string, unknown>;
  try {
    table = parseToml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BuildInputError(file, `not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const project = table.project;
  if (project === undefined) return null;
  if (typeof project !== 'object' || project === null || Array.isArray(project))
    throw new BuildInputError(file, '[project] is not a table');
  const name = (project as Record<string, unknown>).name;
  if (name === undefined) return null;
  if (typeof name !== 'string') throw new BuildInputError(`${file}: [project] name`, 'not a string');
  return checkedProjectName(name, `${file}: [project]`);
}

/** A requirement's project name (PEP 508: NAME[extras] version-spec ; marker, or NAME @ URL). */
const REQUIREMENT = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:$|[[(<>=!~;@\s])/;

/**
 * What PROJECT names, before the install (null: no PROJECT, only -r requirements). A folder or a
 * file is read here; anything else is a requirement pip resolves in the wheelhouse.
 */
export function declaredProject(project: string | null): DeclaredProject | null {
  if (project === null) return null;
  const path = resolve(project);
  let stat: Stats | undefined;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch {
    stat = undefined; // ENAMETOOLONG, ENOTDIR: not a path, so a requirement (checked below)
  }
  // As install.ts's pipTarget: a folder is a project only with a pyproject.toml or a setup.py.
  const pyproject = join(path, 'pyproject.toml');
  if (stat?.isDirectory() === true && (existsSync(pyproject) || existsSync(join(path, 'setup.py')))) {
    const name = existsSync(pyproject) ? pyprojectName(pyproject) : null;
    return name !== null ? { kind: 'name', name, from: pyproject, exact: true } : { kind: 'path', path, from: project };
  }
  if (stat?.isFile() === true && project.endsWith('.whl')) {
    // {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl: the distribution part
    // never holds "-" (the wheel specification escapes it as "_").
    return {
      kind: 'name',
      name: checkedProjectName(basename(project).split('-')[0]!, project),
      from: project,
      exact: false,
    };
  }
  if (stat?.isFile() === true) return { kind: 'path', path, from: project }; // an sdist
  // A bare URL (pip fetches it with --index-url's network): pip's direct_url.json names it.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(project))
    return { kind: 'url', url: project.replace(/#.*$/, ''), from: project };
  const requirement = REQUIREMENT.exec(project);
  if (requirement === null)
    throw new BuildInputError(
      project,
      'neither a project folder, a wheel or sdist file, nor a requirement (NAME, NAME==VERSION, NAME[extra]>=VERSION)',
    );
  return { kind: 'name', name: checkedProjectName(requirement[1]!, project), from: project, exact: false };
}

/** METADATA's Name and Version headers (RFC 822 style; the first occurrence of each). */
function metadataHeaders(distInfo: string): { name: string; version: string } | null {
  const text = readFileSync(join(distInfo, 'METADATA'), 'utf8');
  const header = (key: string): string | undefined =>
    new RegExp(`^${key}:[ \\t]*(.*?)[ \\t]*$`, 'm').exec(text.split(/\r?\n\r?\n/)[0]!)?.[1];
  const name = header('Name');
  const version = header('Version');
  return name !== undefined && version !== undefined ? { name, version } : null;
}

/** The distribution pip installed from `source` (its direct_url.json names the path or URL), in `site`. */
function installedFrom(
  site: string,
  source: { path: string } | { url: string },
): { name: string; version: string } | null {
  const matches = (url: string): boolean =>
    'url' in source
      ? url.replace(/#.*$/, '') === source.url
      : url.startsWith('file:') && [source.path, realpathSync(source.path)].includes(fileURLToPath(url));
  for (const entry of existsSync(site) ? readdirSync(site).sort() : []) {
    if (!entry.endsWith('.dist-info')) continue;
    const direct = join(site, entry, 'direct_url.json');
    if (!existsSync(direct)) continue;
    try {
      const url = (JSON.parse(readFileSync(direct, 'utf8')) as { url?: unknown }).url;
      if (typeof url !== 'string' || !matches(url)) continue;
    } catch {
      continue; // not pip's: not the one we look for
    }
    return metadataHeaders(join(site, entry));
  }
  return null;
}

export interface ProjectIdentity {
  readonly name: string;
  readonly version: string;
}

/**
 * The installed project PROJECT stands for: its name as METADATA spells it, and its version.
 * `site` is the bundle's site-packages (read before the scrub step removes direct_url.json).
 */
export function installedProject(
  declared: DeclaredProject,
  site: string,
  packages: readonly InstalledPackage[],
): ProjectIdentity {
  let found: ProjectIdentity | null;
  if (declared.kind === 'name') {
    const wanted = normalizeProjectName(declared.name);
    const installed = packages.find((p) => normalizeProjectName(p.name) === wanted);
    found =
      installed === undefined
        ? null
        : { name: declared.exact ? declared.name : installed.name, version: installed.version };
  } else {
    found = installedFrom(site, declared);
  }
  if (found === null)
    throw new Error(
      `${declared.from}: pip reported no installed distribution for it, so the bundle cannot be named after it`,
    );
  checkedProjectName(found.name, `${declared.from}: the installed METADATA`);
  return { name: found.name, version: found.version };
}

/** --prompt, checked: when given, it names the bundle (as it always has), so it becomes a file name too. */
export function checkPrompt(prompt: string | null): void {
  if (prompt === null) return;
  const problem = bundleNameProblem(prompt);
  if (problem !== null)
    throw new BuildInputError(`--prompt ${quoteName(prompt)}`, `names the bundle, but is ${problem}`);
}

/**
 * The bundle's name: --prompt when given, else the project it installs, else (only -r
 * requirements: nothing to name it after, as before projects named bundles) the first --entry's
 * name, else "bundle".
 */
export function chooseBundleName(
  prompt: string | null,
  project: ProjectIdentity | null,
  firstEntry: string | null,
): string {
  checkPrompt(prompt);
  const name = prompt ?? project?.name ?? firstEntry ?? 'bundle';
  const problem = bundleNameProblem(name);
  if (problem !== null)
    throw new BuildInputError(
      `--entry ${quoteName(name)}`,
      `names the bundle (there is no PROJECT to name it after), but is ${problem}`,
    );
  return name;
}
