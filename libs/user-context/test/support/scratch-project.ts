import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const LIB_ROOT = join(__dirname, '..', '..');
export const WORKSPACE_ROOT = join(LIB_ROOT, '..', '..');

const TSC = join(WORKSPACE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A ```ts block of the README whose first line names its file: `// <path>`. */
const SAMPLE_BLOCK = /```ts\n\/\/ ([\w/.-]+\.ts)\n[\s\S]*?```/g;

/** npm options that would make `npm install` treat the scratch project as part of a workspace. */
const WORKSPACE_OPTIONS = new Set([
  'npm_config_workspace',
  'npm_config_workspaces',
  'npm_config_include_workspace_root',
]);

/**
 * Packs the library with `npm pack` into `destination` and returns the
 * tarball's path and the paths of the files in it.
 */
export function packLibrary(destination: string): {
  tarball: string;
  files: string[];
} {
  const output = runNpm(
    ['pack', '--json', '--pack-destination', destination],
    LIB_ROOT,
  );
  const [result] = JSON.parse(output) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return {
    tarball: join(destination, result.filename),
    files: result.files.map((file) => file.path),
  };
}

/** Returns `name@<range>`, with the range of the workspace's package.json. */
export function atWorkspaceVersion(name: string): string {
  const manifest = JSON.parse(
    readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8'),
  ) as Record<string, Record<string, string> | undefined>;
  const range =
    manifest.dependencies?.[name] ?? manifest.devDependencies?.[name];
  if (!range) {
    throw new Error(
      `${name} is missing from the workspace's package.json, which sets the versions the scratch project installs. Add it there.`,
    );
  }
  return `${name}@${range}`;
}

/** Creates an empty npm project in the system's temporary folder. */
export function createScratchProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'user-context-package-'));
  writeFile(
    root,
    'package.json',
    JSON.stringify({ name: 'scratch', version: '0.0.0', private: true }),
  );
  return root;
}

/** Installs `specs` (names, `name@range` or tarball paths) with npm's cache first. */
export function npmInstall(root: string, specs: string[]): void {
  runNpm(
    [
      'install',
      ...specs,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    root,
  );
}

/** Reads the README's complete sample files, keyed by their path. */
export function readmeSamples(): Map<string, string> {
  const readme = readFileSync(join(LIB_ROOT, 'README.md'), 'utf8');
  const samples = new Map<string, string>();
  for (const match of readme.matchAll(SAMPLE_BLOCK)) {
    samples.set(match[1], match[0].replace(/^```ts\n/, '').slice(0, -3));
  }
  return samples;
}

export function writeFile(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** Runs the workspace's TypeScript compiler on `tsconfig` in `root`. */
export function compile(root: string, tsconfig: string): void {
  run(process.execPath, [TSC, '-p', tsconfig], root, process.env);
}

function runNpm(args: string[], cwd: string): string {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !WORKSPACE_OPTIONS.has(name.toLowerCase()),
    ),
  );
  return run('npm', args, cwd, env);
}

/** Runs a command and returns its stdout. On failure the error contains stdout and stderr. */
function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`,
    );
  }
}
