// Part of step "copy": where packages and scripts go in the bundle. pip at build time, pip run
// from the bundle later, and site at run time must agree: packages in a folder that
// site.getsitepackages() lists, scripts in bin/.
//
// Debian's python3.x patches both sides. sysconfig's preferred 'prefix' scheme outside a venv is
// `posix_local` (PREFIX/local/lib/python3.x/dist-packages, scripts in PREFIX/local/bin: /usr/local,
// so that pip never writes over dpkg's files), and site.getsitepackages() is PREFIX/local/lib/
// python3.x/dist-packages, PREFIX/lib/python3/dist-packages and PREFIX/lib/python3.x/dist-packages,
// never site-packages. A bundle is not a /usr shared between dpkg and pip, and local/bin is not
// where its commands belong. Of the two, only sysconfig can be changed: site is a frozen module
// in 3.11 (compiled into the interpreter; the bundle's site.py is never read at start-up), so
// run time is Debian's site, whatever the bundle's stdlib says. The bundle therefore takes
// Debian's other scheme, `deb_system`, the one dpkg's own Python packages use: packages in
// PREFIX/lib/python3/dist-packages, which Debian's site lists, and scripts in PREFIX/bin. The
// bundle's copy of sysconfig.py gets one redefinition appended (not an edit of Debian's patched
// code, so it does not depend on its text): `_get_preferred_schemes` answers deb_system for
// 'prefix' (and get_paths/get_path take it as their default scheme, which they compute once, on
// import), like DEB_PYTHON_INSTALL_LAYOUT=deb_system does on Debian, but without the variable:
// pip run from the bundle (`bin/python3 -m pip install`) installs where the build did. Venvs made
// from the bundle are unaffected (sysconfig answers 'venv' there before asking). Debian's
// `_distutils_system_mod` (setuptools' legacy `setup.py install`, which pip 23 no longer uses for
// wheels) is left as Debian ships it.
//
// The result is checked with the bundled interpreter itself, for every base: a base patched in
// some other way fails the build here, naming what it says, instead of at scrub or at run time.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BasePython } from './base-python.js';
import { BuildInputError } from './errors.js';
import { cleanEnv } from './install.js';

function sysconfigOverride(scheme: string): string {
  return `

# Added by pyrelo build: this is a relocatable bundle, not a system's /usr. pip installs with the
# ${scheme} scheme (packages where site looks for them, scripts in bin/), without DEB_PYTHON_INSTALL_LAYOUT.
def _get_preferred_schemes():
    return {'prefix': ${JSON.stringify(scheme)}, 'home': 'posix_home', 'user': 'posix_user'}

# get_paths() and get_path() took the default scheme when this module was executed, above.
for _f in (get_paths, get_path):
    _f.__defaults__ = (get_default_scheme(),) + _f.__defaults__[1:]
del _f
`;
}

/** What the bundled interpreter says about where things go, as pip and site will see it. */
const PROBE = `
import json, site, sys, sysconfig
print(json.dumps({"scheme": sysconfig.get_preferred_scheme("prefix"), "purelib": sysconfig.get_path("purelib"),
  "platlib": sysconfig.get_path("platlib"), "scripts": sysconfig.get_path("scripts"), "site": site.getsitepackages()}))
`;

interface Layout {
  scheme: string;
  purelib: string;
  platlib: string;
  scripts: string;
  site: string[];
}

async function probe(bundle: string, base: BasePython, home: string): Promise<Layout> {
  const result = await execa(join(bundle, base.executable), ['-s', '-E', '-B', '-c', PROBE], {
    env: cleanEnv(home),
    extendEnv: false,
  });
  return JSON.parse(result.stdout) as Layout;
}

function problems(layout: Layout, bundle: string, base: BasePython): string[] {
  const site = join(bundle, base.purelib);
  const out: string[] = [];
  if (base.scheme !== undefined && layout.scheme !== base.scheme)
    out.push(`sysconfig.get_preferred_scheme('prefix') is ${layout.scheme}, not ${base.scheme}`);
  if (layout.purelib !== site || layout.platlib !== site)
    out.push(`pip would install into ${layout.purelib} (platlib ${layout.platlib}), not ${site}`);
  if (layout.scripts !== join(bundle, 'bin'))
    out.push(`pip would write scripts into ${layout.scripts}, not ${join(bundle, 'bin')}`);
  if (!layout.site.includes(site))
    out.push(`site.getsitepackages() is ${JSON.stringify(layout.site)}, without ${site}`);
  return out;
}

export interface SiteLayoutResult {
  /** What was changed, or null when the base's own scheme was already the bundle's. */
  readonly adapted: string | null;
}

/** Makes pip in the bundle install where the bundle's site imports from, scripts in bin/; checks it. */
export async function adoptBundleScheme(bundle: string, base: BasePython, home: string): Promise<SiteLayoutResult> {
  const what = `--python ${join(base.prefix, base.executable)}`;
  const before = await probe(bundle, base, home);
  const found = problems(before, bundle, base);
  if (found.length === 0) return { adapted: null };
  if (base.scheme === undefined || before.scheme === base.scheme) {
    throw new BuildInputError(
      what,
      `pip and site disagree about where packages go, and pyrelo cannot change it: ${found.join('; ')}`,
    );
  }
  const sysconfigPy = join(bundle, base.stdlib, 'sysconfig.py');
  writeFileSync(sysconfigPy, readFileSync(sysconfigPy, 'utf8') + sysconfigOverride(base.scheme));
  const left = problems(await probe(bundle, base, home), bundle, base);
  if (left.length > 0)
    throw new BuildInputError(
      what,
      `pip and site disagree about where packages go, even with the ${base.scheme} scheme: ${left.join('; ')}`,
    );
  return {
    adapted:
      `install scheme ${before.scheme} (scripts in ${before.scripts.slice(bundle.length + 1)}) replaced by ` +
      `${base.scheme}: packages in ${base.purelib}, which site lists, scripts in bin/ (sysconfig.py)`,
  };
}
