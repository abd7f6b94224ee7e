import {
  getProjects,
  joinPathFragments,
  names,
  offsetFromRoot,
  ProjectConfiguration,
  Tree,
} from '@nx/devkit';

import { ServiceGeneratorSchema, ServiceTransport } from '../schema';
import { envPrefixOf } from './env-prefix';
import { checkNameClashes } from './name-clashes';
import { choosePort } from './used-ports';

/** The generator's options after validation, with every default filled in. */
export interface NormalizedServiceOptions {
  /** Kebab-case service name: `payments`. */
  name: string;
  /** Prefix of class names: `Payments`. */
  className: string;
  /** Prefix of constants and environment variables: `PAYMENTS`. */
  constantName: string;
  /** Package of the `.proto` file: `platform.payments`. */
  protoPackage: string;
  transport: ServiceTransport;
  port: number;
  /** Folder of the new project: `apps/payments`. */
  projectRoot: string;
  /** Path from the project folder back to the workspace root: `../../`. */
  offsetFromRoot: string;
  tags: string[];
  skipFormat: boolean;
  /** Source folder of the gateway app, where the routes go. */
  gatewaySourceRoot: string;
  /** Folder of the contracts library, where the patterns, DTO and `.proto` go. */
  contractsRoot: string;
  contractsSourceRoot: string;
}

export const TRANSPORTS: readonly ServiceTransport[] = [
  'tcp',
  'nats',
  'rmq',
  'redis',
  'grpc',
];

const NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 40;

/**
 * Names a service cannot take, with the reason. A Map, so that names of
 * Object.prototype members such as `constructor` are not found in it.
 */
const RESERVED_NAMES = new Map<string, string>([
  [
    'gateway',
    'the HTTP gateway has that name, and a service named so would read its GATEWAY_HOST and GATEWAY_PORT',
  ],
  ['health', 'the gateway serves GET /health itself'],
  ['me', 'the gateway serves GET /me itself'],
  [
    'constructor',
    'Nx 23 looks project names up in plain objects, so it reports a project named constructor as defined twice and cannot read the workspace',
  ],
]);

/** Validates the options and fills in every default, before anything is written. */
export function normalizeOptions(
  tree: Tree,
  schema: ServiceGeneratorSchema,
): NormalizedServiceOptions {
  const projects = getProjects(tree);
  const name = validateName(schema.name, projects);
  const transport = validateTransport(schema.transport ?? 'tcp');
  const projectRoot = validateDirectory(
    tree,
    projects,
    schema.directory ?? `apps/${name}`,
    schema.directory === undefined,
  );
  const gateway = requireProject(projects, 'gateway', 'its HTTP routes');
  const contracts = requireProject(
    projects,
    'contracts',
    'its message patterns, DTO and .proto file',
  );
  const { className } = names(name);
  const constantName = envPrefixOf(name);
  const options: NormalizedServiceOptions = {
    name,
    className,
    constantName,
    protoPackage: `platform.${constantName.toLowerCase()}`,
    transport,
    port: choosePort(tree, schema.port),
    projectRoot,
    offsetFromRoot: offsetFromRoot(projectRoot),
    tags: normalizeTags(name, schema.tags),
    skipFormat: schema.skipFormat ?? false,
    gatewaySourceRoot: sourceRootOf(gateway),
    contractsRoot: contracts.root,
    contractsSourceRoot: sourceRootOf(contracts),
  };

  for (const file of filesOutsideProject(options)) {
    if (tree.exists(file)) {
      throw new Error(
        `${file} already exists, so the name "${name}" is taken in a shared project. Choose another name, or remove that file first.`,
      );
    }
  }
  checkNameClashes(tree, projects, options);
  return options;
}

/** Files the generator adds to the gateway and the contracts library. */
export function filesOutsideProject(
  options: NormalizedServiceOptions,
): string[] {
  return [
    joinPathFragments(
      options.gatewaySourceRoot,
      `${options.name}.controller.ts`,
    ),
    joinPathFragments(
      options.contractsSourceRoot,
      'lib',
      `${options.name}.contract.ts`,
    ),
    joinPathFragments(options.contractsRoot, 'proto', `${options.name}.proto`),
  ];
}

function validateName(
  name: unknown,
  projects: Map<string, ProjectConfiguration>,
): string {
  if (typeof name !== 'string' || name === '') {
    throw new Error(
      'Missing service name: run nx g @platform/nx-plugin:service <name>, such as payments.',
    );
  }
  if (!NAME_PATTERN.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new Error(
      `Invalid service name "${name}": use kebab-case of at most ${MAX_NAME_LENGTH} characters, lower-case words of letters and digits joined by single dashes and starting with a letter, such as "payments" or "user-profiles".`,
    );
  }
  const reservedBecause = RESERVED_NAMES.get(name);
  if (reservedBecause) {
    throw new Error(
      `The service name "${name}" is reserved: ${reservedBecause}. Choose another name.`,
    );
  }
  const existing = projects.get(name);
  if (existing) {
    throw new Error(
      `A project named "${name}" already exists in ${existing.root}. Choose another name, or remove that project first.`,
    );
  }
  return name;
}

function validateTransport(transport: string): ServiceTransport {
  if (!(TRANSPORTS as readonly string[]).includes(transport)) {
    throw new Error(
      `Invalid --transport "${transport}": choose one of ${TRANSPORTS.join(', ')}.`,
    );
  }
  return transport as ServiceTransport;
}

/** A folder name of the project's path: lower-case letters, digits and dashes. */
const DIRECTORY_SEGMENT = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Folder names a project path cannot contain: git ignores them (the
 * workspace's .gitignore lists node_modules, dist, data, coverage and tmp),
 * or Git and Nx keep their own state there.
 */
const IGNORED_FOLDERS = new Set([
  'node_modules',
  'dist',
  'tmp',
  'coverage',
  'data',
  '.git',
  '.nx',
]);

function validateDirectory(
  tree: Tree,
  projects: Map<string, ProjectConfiguration>,
  directory: string,
  isDefault: boolean,
): string {
  const normalized = directory
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .replace(/\/+$/, '');
  const invalid = isDefault
    ? `Invalid default folder ${directory} of the service`
    : `Invalid --directory "${directory}"`;
  const fix = isDefault
    ? 'Choose another service name, or pass --directory'
    : 'Choose another --directory';

  validateFolderNames(normalized, invalid, fix);
  validateOutsideProjects(projects, normalized, invalid, fix);

  if (tree.exists(normalized)) {
    throw new Error(
      `The folder ${normalized} already exists. Choose another --directory or service name, or remove the folder first.`,
    );
  }
  return normalized;
}

/** Throws unless every folder of `path` is relative, committed and named in kebab-case. */
function validateFolderNames(path: string, invalid: string, fix: string): void {
  const parts = path.split('/');
  if (
    path === '' ||
    path.startsWith('/') ||
    /^[A-Za-z]:/.test(path) ||
    parts.some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw new Error(
      `${invalid}: give a folder inside the workspace, relative to its root, such as apps/payments.`,
    );
  }

  const ignored = parts.find((part) => IGNORED_FOLDERS.has(part));
  if (ignored) {
    throw new Error(
      `${invalid}: git ignores or tools own folders named ${ignored}, so the project would not be committed. ${fix}, such as apps/payments.`,
    );
  }

  const badPart = parts.find((part) => !DIRECTORY_SEGMENT.test(part));
  if (badPart !== undefined) {
    throw new Error(
      `${invalid}: the folder name "${badPart}" must contain only lower-case letters, digits and dashes, and start with a letter or digit. ${fix}, such as apps/payments.`,
    );
  }
}

/** Throws when `path` lies inside the root of an existing project. */
function validateOutsideProjects(
  projects: Map<string, ProjectConfiguration>,
  path: string,
  invalid: string,
  fix: string,
): void {
  for (const [projectName, project] of projects) {
    const root = project.root.replace(/\/+$/, '');
    const isWorkspaceRoot = root === '' || root === '.';
    if (!isWorkspaceRoot && (path === root || path.startsWith(`${root}/`))) {
      throw new Error(
        `${invalid}: it is inside the project ${projectName} in ${root}, and a project cannot contain another. ${fix}, such as apps/payments.`,
      );
    }
  }
}

function normalizeTags(name: string, tags: string | undefined): string[] {
  const extra = (tags ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  for (const tag of extra) {
    if (/\s/.test(tag)) {
      throw new Error(
        `Invalid tag "${tag}" in --tags: tags are separated by commas and contain no spaces, such as "team:billing,pci".`,
      );
    }
    if (tag.startsWith('type:') && tag !== 'type:app') {
      throw new Error(
        `Invalid tag "${tag}" in --tags: every generated service is type:app. Leave type tags out of --tags.`,
      );
    }
  }
  return [...new Set([`scope:${name}`, 'type:app', ...extra])];
}

function requireProject(
  projects: Map<string, ProjectConfiguration>,
  name: string,
  purpose: string,
): ProjectConfiguration {
  const project = projects.get(name);
  if (!project) {
    throw new Error(
      `This workspace has no project named "${name}", where the generator adds ${purpose}. Run the generator from the root of the platform workspace.`,
    );
  }
  return project;
}

function sourceRootOf(project: ProjectConfiguration): string {
  return project.sourceRoot ?? joinPathFragments(project.root, 'src');
}
