import {
  addProjectConfiguration,
  readProjectConfiguration,
  Tree,
} from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

import { addJestProject } from './lib/add-jest-project';
import { NormalizedServiceOptions, TRANSPORTS } from './lib/normalize-options';
import { ServiceGeneratorSchema } from './schema';
import { serviceGenerator } from './service';

/**
 * The gateway's service list as the workspace ships it, with orders and
 * inventory only. A copy, not the real file, so that services a team has
 * generated since do not change what these specs expect.
 */
const GATEWAY_SERVICES = `import { Type } from '@nestjs/common';
import { INVENTORY_GRPC, ORDERS_GRPC } from '@platform/contracts';
import {
  ContextTransportName,
  GrpcServiceContract,
} from '@platform/user-context';

import { InventoryController } from './inventory.controller';
import { OrdersController } from './orders.controller';

export interface DownstreamService {
  service: string;
  defaultPort: number;
  grpc: GrpcServiceContract;
  transport?: ContextTransportName;
  controllers: Type<unknown>[];
}

export const DOWNSTREAM_SERVICES: DownstreamService[] = [
  {
    service: 'orders',
    defaultPort: 3001,
    grpc: ORDERS_GRPC,
    controllers: [OrdersController],
  },
  {
    service: 'inventory',
    defaultPort: 3002,
    grpc: INVENTORY_GRPC,
    controllers: [InventoryController],
  },
];
`;

const ROOT_JEST_CONFIG = `export default {
  projects: [
    '<rootDir>/libs/contracts',
    '<rootDir>/e2e/jest.tcp.config.ts',
  ],
};
`;

/** Seeds the few projects and files the generator reads and edits. */
function seedWorkspace(tree: Tree): void {
  addProjectConfiguration(tree, 'gateway', {
    root: 'apps/gateway',
    sourceRoot: 'apps/gateway/src',
    projectType: 'application',
  });
  tree.write(
    'apps/gateway/src/gateway.config.ts',
    "export const http = addressFromEnv('GATEWAY', 3000, env);\n",
  );
  tree.write('apps/gateway/src/services.ts', GATEWAY_SERVICES);

  addProjectConfiguration(tree, 'orders', {
    root: 'apps/orders',
    sourceRoot: 'apps/orders/src',
    projectType: 'application',
  });
  tree.write(
    'apps/orders/src/orders.config.ts',
    [
      "const address = addressFromEnv('ORDERS', 3001, env);",
      "const inventory = addressFromEnv('INVENTORY', 3002, env);",
      '',
    ].join('\n'),
  );
  // Ports in specs are examples, never taken.
  tree.write(
    'apps/orders/src/orders.config.spec.ts',
    "addressFromEnv('ORDERS', 4999, {});\n",
  );

  addProjectConfiguration(tree, 'contracts', {
    root: 'libs/contracts',
    sourceRoot: 'libs/contracts/src',
    projectType: 'library',
  });
  tree.write('libs/contracts/src/index.ts', "export * from './lib/dto';\n");

  tree.write('jest.config.ts', ROOT_JEST_CONFIG);
}

function createWorkspace(): Tree {
  const tree = createTreeWithEmptyWorkspace({ formatter: 'none' });
  seedWorkspace(tree);
  return tree;
}

function generate(
  tree: Tree,
  options: Partial<ServiceGeneratorSchema> = {},
): Promise<unknown> {
  return serviceGenerator(tree, {
    name: 'payments',
    skipFormat: true,
    ...options,
  });
}

function read(tree: Tree, path: string): string {
  const text = tree.read(path, 'utf-8');
  if (text === null) {
    throw new Error(`${path} was not written.`);
  }
  return text;
}

/** Returns the syntax errors of a TypeScript file, as messages. */
function syntaxErrors(tree: Tree, path: string): string[] {
  const { diagnostics = [] } = ts.transpileModule(read(tree, path), {
    fileName: path,
    reportDiagnostics: true,
  });
  return diagnostics.map((diagnostic) =>
    ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
  );
}

/** Expects every created or changed TypeScript file to parse without errors. */
function expectNoSyntaxErrors(tree: Tree): void {
  const typescriptFiles = tree
    .listChanges()
    .map((change) => change.path)
    .filter((path) => path.endsWith('.ts'));

  for (const path of typescriptFiles) {
    expect({ path, errors: syntaxErrors(tree, path) }).toEqual({
      path,
      errors: [],
    });
  }
}

describe('serviceGenerator', () => {
  let tree: Tree;

  beforeEach(() => {
    tree = createWorkspace();
  });

  describe('with the defaults', () => {
    beforeEach(() => generate(tree));

    it.each([
      'apps/payments/project.json',
      'apps/payments/jest.config.ts',
      'apps/payments/tsconfig.json',
      'apps/payments/tsconfig.app.json',
      'apps/payments/tsconfig.spec.json',
      'apps/payments/src/main.ts',
      'apps/payments/src/app.module.ts',
      'apps/payments/src/payments.config.ts',
      'apps/payments/src/payments.controller.ts',
      'apps/payments/src/payments.service.ts',
      'apps/payments/src/payments-item.entity.ts',
      'apps/payments/src/payments.service.spec.ts',
      'apps/payments/test/payments.e2e-spec.ts',
      'libs/contracts/src/lib/payments.contract.ts',
      'libs/contracts/proto/payments.proto',
      'apps/gateway/src/payments.controller.ts',
    ])('creates %s', (path) => {
      expect(tree.exists(path)).toBe(true);
    });

    it('leaves no template suffix or placeholder', () => {
      const created = tree
        .listChanges()
        .filter((change) => change.type === 'CREATE')
        .map((change) => change.path);

      expect(created.filter((path) => /__\w+__/.test(path))).toEqual([]);
      for (const path of created) {
        expect(read(tree, path)).not.toMatch(/<%|%>/);
      }
    });

    it('writes TypeScript without syntax errors', () => {
      expectNoSyntaxErrors(tree);
    });

    it('configures the project like the other apps', () => {
      const project = readProjectConfiguration(tree, 'payments');

      expect(project.projectType).toBe('application');
      expect(project.sourceRoot).toBe('apps/payments/src');
      expect(project.targets?.build).toMatchObject({
        executor: '@nx/js:tsc',
        options: {
          outputPath: 'dist/apps/payments',
          main: 'apps/payments/src/main.ts',
          tsConfig: 'apps/payments/tsconfig.app.json',
        },
      });
      expect(project.targets?.serve).toMatchObject({
        executor: '@nx/js:node',
        dependsOn: ['build'],
        continuous: true,
        options: { buildTarget: 'payments:build' },
      });
      expect(project.targets?.test).toMatchObject({
        executor: '@nx/jest:jest',
        options: { jestConfig: 'apps/payments/jest.config.ts' },
      });
      // `lint` is inferred by @nx/eslint/plugin from the root config.
      expect(project.targets?.lint).toBeUndefined();
    });

    it('tags the project with its scope and type', () => {
      expect(readProjectConfiguration(tree, 'payments').tags).toEqual([
        'scope:payments',
        'type:app',
      ]);
    });

    it('takes the next free port', () => {
      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "addressFromEnv('PAYMENTS', 3003, env)",
      );
    });

    it('defaults the service to TCP', () => {
      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "export const DEFAULT_TRANSPORT = 'tcp';",
      );
    });

    it('uses the service role and name in the app module', () => {
      const appModule = read(tree, 'apps/payments/src/app.module.ts');

      expect(appModule).toContain("role: 'service'");
      expect(appModule).toContain("serviceName: 'payments'");
    });

    it('stores items with TypeORM through persistence', () => {
      const appModule = read(tree, 'apps/payments/src/app.module.ts');

      expect(appModule).toContain(
        "import { typeOrmOptions } from '@platform/persistence';",
      );
      expect(appModule).toContain(
        'typeOrmOptions(config.database, [PaymentsItemEntity])',
      );
      expect(appModule).toContain(
        'TypeOrmModule.forFeature([PaymentsItemEntity])',
      );
    });

    it('keeps items in payments.sqlite by default', () => {
      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "database: databaseFromEnv(env, 'payments.sqlite')",
      );
    });

    it('writes the item entity and its table', () => {
      const entity = read(tree, 'apps/payments/src/payments-item.entity.ts');

      expect(entity).toContain("@Entity('payments_items')");
      expect(entity).toContain('export class PaymentsItemEntity');
    });

    it('reads and writes items through a repository', () => {
      const service = read(tree, 'apps/payments/src/payments.service.ts');

      expect(service).toContain('@InjectRepository(PaymentsItemEntity)');
      expect(service).toContain('await this.items.save(item);');
      expect(service).not.toContain('memory');
    });

    it('points the specs at a temporary DATA_DIR', () => {
      const unitSpec = read(tree, 'apps/payments/src/payments.service.spec.ts');
      const e2eSpec = read(tree, 'apps/payments/test/payments.e2e-spec.ts');

      expect(unitSpec).toContain(
        "mkdtempSync(join(tmpdir(), 'payments-spec-'))",
      );
      expect(e2eSpec).toContain("mkdtempSync(join(tmpdir(), 'payments-e2e-'))");
      expect(e2eSpec).toContain('DATA_DIR: dataDir,');
    });

    it('requires permissions on the message patterns', () => {
      const controller = read(tree, 'apps/payments/src/payments.controller.ts');

      expect(controller).toContain("@RequirePermission('payments:read')");
      expect(controller).toContain("@RequirePermission('payments:write')");
      expect(controller).toContain('@CurrentUser() user: UserContext');
    });

    it('adds the gateway entry and its imports', () => {
      const services = read(tree, 'apps/gateway/src/services.ts');

      expect(services).toContain(
        "import { INVENTORY_GRPC, ORDERS_GRPC, PAYMENTS_GRPC } from '@platform/contracts';",
      );
      expect(services).toContain(
        "import { PaymentsController } from './payments.controller';",
      );
      expect(services).toContain(
        [
          '  {',
          "    service: 'payments',",
          '    defaultPort: 3003,',
          '    grpc: PAYMENTS_GRPC,',
          '    controllers: [PaymentsController],',
          '  },',
        ].join('\n'),
      );
      expect(syntaxErrors(tree, 'apps/gateway/src/services.ts')).toEqual([]);
    });

    it('writes gateway routes that forward to the service', () => {
      const controller = read(tree, 'apps/gateway/src/payments.controller.ts');

      expect(controller).toContain("@Controller('payments')");
      expect(controller).toContain("@InjectService('payments')");
      expect(controller).toContain('PaymentsPatterns.list');
      expect(controller).toContain('PaymentsPatterns.create');
    });

    it('exports the contract from the contracts index', () => {
      expect(read(tree, 'libs/contracts/src/index.ts')).toBe(
        "export * from './lib/dto';\nexport * from './lib/payments.contract';\n",
      );
    });

    it('writes a gRPC contract that matches the proto file', () => {
      const contract = read(
        tree,
        'libs/contracts/src/lib/payments.contract.ts',
      );
      const proto = read(tree, 'libs/contracts/proto/payments.proto');

      expect(contract).toContain("package: 'platform.payments'");
      expect(contract).toContain("service: 'PaymentsService'");
      expect(proto).toContain('package platform.payments;');
      expect(proto).toContain('service PaymentsService {');
      for (const rpc of ['ListItems', 'CreateItem']) {
        expect(contract).toContain(`rpc: '${rpc}'`);
        expect(proto).toContain(`rpc ${rpc} (`);
      }
    });

    it('adds the project to the root jest config', () => {
      expect(read(tree, 'jest.config.ts')).toContain(
        "'<rootDir>/e2e/jest.tcp.config.ts',\n    '<rootDir>/apps/payments'",
      );
    });

    it('runs unit and e2e specs from the app jest config', () => {
      const jestConfig = read(tree, 'apps/payments/jest.config.ts');

      expect(jestConfig).toContain("preset: '../../jest.preset.js'");
      expect(jestConfig).toContain("'<rootDir>/src/**/*.spec.ts'");
      expect(jestConfig).toContain("'<rootDir>/test/**/*.e2e-spec.ts'");
      expect(jestConfig).not.toContain('moduleNameMapper');
    });
  });

  describe('ports', () => {
    it('counts the ports of services generated before', async () => {
      await generate(tree);

      await generate(tree, { name: 'billing' });

      expect(read(tree, 'apps/billing/src/billing.config.ts')).toContain(
        "addressFromEnv('BILLING', 3004, env)",
      );
      expect(read(tree, 'apps/gateway/src/services.ts')).toContain(
        'defaultPort: 3004',
      );
    });

    it('uses a requested free port', async () => {
      await generate(tree, { port: 4100 });

      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "addressFromEnv('PAYMENTS', 4100, env)",
      );
      expect(read(tree, 'apps/gateway/src/services.ts')).toContain(
        'defaultPort: 4100',
      );
    });

    it.each([
      [40000, 3003],
      [32767, 3003],
      [4221, 4223],
    ])('picks the next port beside a port %s', async (usedPort, expected) => {
      tree.write(
        'apps/orders/src/reports.config.ts',
        `addressFromEnv('REPORTS', ${usedPort}, env);\n`,
      );

      await generate(tree);

      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        `addressFromEnv('PAYMENTS', ${expected}, env)`,
      );
    });

    it.each([
      [4222, 'NATS'],
      [5672, 'RabbitMQ'],
      [6379, 'Redis'],
      [5432, 'PostgreSQL'],
      [3306, 'MySQL'],
      [1883, 'MQTT'],
    ])('rejects the broker port %s', async (port, broker) => {
      await expect(generate(tree, { port })).rejects.toThrow(
        `Invalid --port ${port}: it is the default port of ${broker}, which may run beside the apps. Choose another --port, or leave it out to take the next free port, 3003.`,
      );
    });

    it('starts above the gateway in a workspace without ports', async () => {
      tree.write('apps/gateway/src/gateway.config.ts', '');
      tree.write('apps/orders/src/orders.config.ts', '');
      tree.write(
        'apps/gateway/src/services.ts',
        GATEWAY_SERVICES.replace(/defaultPort: \d+/g, 'defaultPort: 2000'),
      );

      await generate(tree);

      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "addressFromEnv('PAYMENTS', 3001, env)",
      );
    });
  });

  describe('options', () => {
    it('adds extra tags after scope and type', async () => {
      await generate(tree, { tags: 'team:billing, pci,,type:app' });

      expect(readProjectConfiguration(tree, 'payments').tags).toEqual([
        'scope:payments',
        'type:app',
        'team:billing',
        'pci',
      ]);
    });

    it('sets the transport as the default of service and gateway', async () => {
      await generate(tree, { transport: 'nats' });

      expect(read(tree, 'apps/payments/src/payments.config.ts')).toContain(
        "export const DEFAULT_TRANSPORT = 'nats';",
      );
      expect(read(tree, 'apps/gateway/src/services.ts')).toContain(
        "transport: 'nats',",
      );
    });

    it.each([
      ['tcp', 'TCP', 'ClientTCP'],
      ['nats', 'NATS', 'ClientNats'],
      ['rmq', 'RabbitMQ', 'ClientRMQ'],
      ['redis', 'Redis', 'ClientRedis'],
    ] as const)(
      'runs the e2e spec on %s',
      async (transport, label, plainClient) => {
        await generate(tree, { transport });

        const e2e = read(tree, 'apps/payments/test/payments.e2e-spec.ts');
        expect(e2e).toContain(`describe('payments service over ${label}'`);
        expect(e2e).toContain(`TRANSPORT: '${transport}',`);
        expect(e2e).toContain(
          "BROKER_NAMESPACE: `e2e-${randomBytes(6).toString('hex')}`,",
        );
        expect(e2e).toContain('registerContextClients(');
        expect(e2e).toContain(`${plainClient}.prototype.send.call(`);
        expect(e2e).not.toContain('TODO');
        expect(e2e).not.toContain('GrpcStatus');
      },
    );

    it('calls the gRPC stub without metadata', async () => {
      await generate(tree, { transport: 'grpc' });

      const e2e = read(tree, 'apps/payments/test/payments.e2e-spec.ts');
      expect(e2e).toContain("describe('payments service over gRPC'");
      expect(e2e).toContain(
        "import { status as GrpcStatus } from '@grpc/grpc-js';",
      );
      expect(e2e).toContain('client.getService<');
      expect(e2e).toContain(
        'methods[PAYMENTS_GRPC.methods[PaymentsPatterns.list].rpc];',
      );
      expect(e2e).toContain('code: GrpcStatus.UNAUTHENTICATED');
      expect(e2e).not.toContain('.prototype.send.call(');
    });

    it('deletes the RabbitMQ queue after an rmq e2e run', async () => {
      await generate(tree, { transport: 'rmq' });

      const e2e = read(tree, 'apps/payments/test/payments.e2e-spec.ts');
      expect(e2e).toContain("import * as amqp from 'amqplib';");
      expect(e2e).toContain(
        'channel.deleteQueue(`${namespacePrefix(config.transport)}payments`)',
      );
      expect(e2e).toContain('await deleteQueue(config);');
    });

    it.each(['tcp', 'nats', 'redis', 'grpc'] as const)(
      'leaves amqplib out of a %s e2e spec',
      async (transport) => {
        await generate(tree, { transport });

        const e2e = read(tree, 'apps/payments/test/payments.e2e-spec.ts');
        expect(e2e).not.toContain('amqplib');
        expect(e2e).not.toContain('deleteQueue');
      },
    );

    it('places the project in another directory', async () => {
      await generate(tree, { directory: 'apps/billing/payments/' });

      const project = readProjectConfiguration(tree, 'payments');
      const jestConfig = read(tree, 'apps/billing/payments/jest.config.ts');
      expect(project.root).toBe('apps/billing/payments');
      expect(project.targets?.build?.options.outputPath).toBe(
        'dist/apps/billing/payments',
      );
      expect(jestConfig).toContain("preset: '../../../jest.preset.js'");
      expect(jestConfig).toContain("prefix: '<rootDir>/../../../'");
      expect(read(tree, 'apps/billing/payments/tsconfig.json')).toContain(
        '"extends": "../../../tsconfig.base.json"',
      );
      expect(read(tree, 'jest.config.ts')).toContain(
        "'<rootDir>/apps/billing/payments'",
      );
      expect(
        syntaxErrors(tree, 'apps/billing/payments/jest.config.ts'),
      ).toEqual([]);
    });

    it('derives identifiers from a kebab-case name', async () => {
      await generate(tree, { name: 'user-profiles' });

      const contract = read(
        tree,
        'libs/contracts/src/lib/user-profiles.contract.ts',
      );
      expect(contract).toContain('export const UserProfilesPatterns');
      expect(contract).toContain('export const USER_PROFILES_GRPC');
      expect(contract).toContain("package: 'platform.user_profiles'");
      expect(
        read(tree, 'apps/user-profiles/src/user-profiles.config.ts'),
      ).toContain("addressFromEnv('USER_PROFILES', 3003, env)");
      expect(
        read(tree, 'apps/user-profiles/src/user-profiles-item.entity.ts'),
      ).toContain("@Entity('user_profiles_items')");
    });

    it('derives the env prefix by the rule of the gateway', () => {
      const gatewayRule = readFileSync(
        join(
          __dirname,
          '../../../../../apps/gateway/src/inject-service.decorator.ts',
        ),
        'utf-8',
      );

      expect(gatewayRule).toContain(
        "return service.toUpperCase().replace(/-/g, '_');",
      );
    });

    it.each([
      ['payments-2', 'PAYMENTS_2'],
      ['v-2-api', 'V_2_API'],
      ['log-4j', 'LOG_4J'],
      ['pay-2fa', 'PAY_2FA'],
    ])('gives %s the env prefix of the gateway', async (name, prefix) => {
      await generate(tree, { name });

      const config = read(tree, `apps/${name}/src/${name}.config.ts`);
      const e2e = read(tree, `apps/${name}/test/${name}.e2e-spec.ts`);
      expect(config).toContain(`addressFromEnv('${prefix}', 3003, env)`);
      expect(config).toContain(`\`${prefix}_PORT\``);
      expect(e2e).toContain(`${prefix}_PORT: String(port)`);
      expect(read(tree, 'apps/gateway/src/services.ts')).toContain(
        `grpc: ${prefix}_GRPC,`,
      );
    });

    it.each([
      'delete',
      'class',
      'import',
      'export',
      'package',
      'public',
      'default',
      'new',
      'this',
      'void',
      'yield',
      'let',
      'static',
      'enum',
      'function',
      'in',
      'null',
      'super',
      'true',
      'typeof',
      'eval',
      'arguments',
    ])('writes valid TypeScript for the name %s', async (name) => {
      await generate(tree, { name });

      expectNoSyntaxErrors(tree);
    });

    it('names the controller members service and client', async () => {
      await generate(tree, { name: 'delete' });

      const controller = read(tree, 'apps/delete/src/delete.controller.ts');
      const route = read(tree, 'apps/gateway/src/delete.controller.ts');
      expect(controller).toContain('private readonly service: DeleteService');
      expect(controller).toContain('this.service.list(user)');
      expect(route).toContain('private readonly client: ServiceClient');
      expect(route).toContain('this.client.send(DeletePatterns.list, {})');
    });

    // NOTE: formatting is checked in generate-in-workspace.spec.ts. Here
    // formatFiles cannot load Prettier: it uses a dynamic import(), which
    // Jest's CommonJS runtime rejects.
  });

  describe('errors', () => {
    it.each([
      ['upper case', 'Payments'],
      ['an underscore', 'pay_ments'],
      ['a leading digit', '1payments'],
      ['a double dash', 'pay--ments'],
      ['a trailing dash', 'payments-'],
      ['41 characters', 'a'.repeat(41)],
    ])('rejects a name with %s', async (_case, name) => {
      await expect(generate(tree, { name })).rejects.toThrow(
        `Invalid service name "${name}": use kebab-case`,
      );
    });

    it('rejects a missing name', async () => {
      await expect(generate(tree, { name: '' })).rejects.toThrow(
        'Missing service name',
      );
    });

    it.each(['gateway', 'health', 'me'])(
      'rejects the reserved name %s',
      async (name) => {
        await expect(generate(tree, { name })).rejects.toThrow(
          `The service name "${name}" is reserved`,
        );
      },
    );

    it('rejects constructor with its reason', async () => {
      await expect(generate(tree, { name: 'constructor' })).rejects.toThrow(
        'The service name "constructor" is reserved: Nx 23 looks project names up in plain objects',
      );
    });

    it.each(['to-string', 'has-own-property', 'value-of'])(
      'takes the Object member name %s',
      async (name) => {
        await generate(tree, { name });

        expect(readProjectConfiguration(tree, name).root).toBe(`apps/${name}`);
        expectNoSyntaxErrors(tree);
      },
    );

    it('rejects the name of an existing project', async () => {
      await expect(generate(tree, { name: 'orders' })).rejects.toThrow(
        'A project named "orders" already exists in apps/orders. Choose another name',
      );
    });

    it('rejects an existing directory', async () => {
      tree.write('apps/payments/README.md', '# left over\n');

      await expect(generate(tree)).rejects.toThrow(
        'The folder apps/payments already exists. Choose another --directory',
      );
    });

    it.each(['../payments', '/srv/payments', 'apps/./payments', 'C:/payments'])(
      'rejects the directory %s',
      async (directory) => {
        await expect(generate(tree, { directory })).rejects.toThrow(
          `Invalid --directory "${directory}": give a folder inside the workspace`,
        );
      },
    );

    it.each(['data', 'dist', 'tmp', 'coverage'])(
      'rejects the name %s for its ignored folder',
      async (name) => {
        await expect(generate(tree, { name })).rejects.toThrow(
          `Invalid default folder apps/${name} of the service: git ignores or tools own folders named ${name}`,
        );
      },
    );

    it('takes an ignored name with another directory', async () => {
      await generate(tree, { name: 'data', directory: 'apps/data-store' });

      expect(readProjectConfiguration(tree, 'data').root).toBe(
        'apps/data-store',
      );
    });

    it.each([
      ['.git/svc', '.git'],
      ['node_modules/svc', 'node_modules'],
      ['dist/svc', 'dist'],
      ['tmp/svc', 'tmp'],
      ['apps/coverage/svc', 'coverage'],
      ['.nx/svc', '.nx'],
      ['libs/data', 'data'],
    ])('rejects the ignored directory %s', async (directory, folder) => {
      await expect(generate(tree, { directory })).rejects.toThrow(
        `Invalid --directory "${directory}": git ignores or tools own folders named ${folder}`,
      );
    });

    it.each([
      ['apps/Payments', 'Payments'],
      ['apps/pay ments', 'pay ments'],
      ['apps/-payments', '-payments'],
      ['apps/pay_ments', 'pay_ments'],
      ["apps/x',require('child_process'),'y", "x',require('child_process'),'y"],
    ])('rejects the directory segment of %s', async (directory, part) => {
      await expect(generate(tree, { directory })).rejects.toThrow(
        `Invalid --directory "${directory}": the folder name "${part}" must contain only lower-case letters, digits and dashes`,
      );
    });

    it.each(['apps/gateway', 'apps/gateway/src/nested'])(
      'rejects the directory %s inside a project',
      async (directory) => {
        await expect(generate(tree, { directory })).rejects.toThrow(
          `Invalid --directory "${directory}": it is inside the project gateway in apps/gateway`,
        );
      },
    );

    it('rejects a port taken by a service', async () => {
      tree.write(
        'apps/orders/src/reports.config.ts',
        "addressFromEnv('REPORTS', 4200, env);\n",
      );

      await expect(generate(tree, { port: 4200 })).rejects.toThrow(
        'Port 4200 is taken: it is the default port of REPORTS in apps/orders/src/reports.config.ts. Choose another --port, or leave it out to take the next free port, 4201.',
      );
    });

    it('rejects the port of the gateway', async () => {
      await expect(generate(tree, { port: 3000 })).rejects.toThrow(
        'Port 3000 is taken: it is the default port of GATEWAY',
      );
    });

    it('rejects a port of the gateway service list', async () => {
      tree.write(
        'apps/orders/src/orders.config.ts',
        "addressFromEnv('INVENTORY', 3002, env);\n",
      );

      await expect(generate(tree, { port: 3001 })).rejects.toThrow(
        'Port 3001 is taken: it is the default port of orders in apps/gateway/src/services.ts',
      );
    });

    it.each([80, 1023, 65536, 3003.5])(
      'rejects the port %s as out of range',
      async (port) => {
        await expect(generate(tree, { port })).rejects.toThrow(
          `Invalid --port ${port}: choose an integer from 1024 to 65535, or leave --port out to take the next free port, 3003.`,
        );
      },
    );

    it('rejects an unknown transport', async () => {
      await expect(
        generate(tree, {
          transport: 'kafka' as ServiceGeneratorSchema['transport'],
        }),
      ).rejects.toThrow(
        'Invalid --transport "kafka": choose one of tcp, nats, rmq, redis, grpc.',
      );
    });

    it.each([
      ['a space', 'team billing', 'tags are separated by commas'],
      ['another type', 'type:lib', 'every generated service is type:app'],
    ])('rejects a tag with %s', async (_case, tags, reason) => {
      await expect(generate(tree, { tags })).rejects.toThrow(
        `Invalid tag "${tags}" in --tags: ${reason}`,
      );
    });

    it('rejects a contract file that exists', async () => {
      tree.write('libs/contracts/src/lib/payments.contract.ts', '');

      await expect(generate(tree)).rejects.toThrow(
        'libs/contracts/src/lib/payments.contract.ts already exists, so the name "payments" is taken in a shared project.',
      );
    });

    it('rejects a service the gateway lists already', async () => {
      tree.write(
        'apps/gateway/src/services.ts',
        GATEWAY_SERVICES.replace("service: 'orders'", "service: 'payments'"),
      );

      await expect(generate(tree, { port: 4100 })).rejects.toThrow(
        'apps/gateway/src/services.ts lists a service named "payments" already.',
      );
    });

    it('rejects a gateway without the service list', async () => {
      tree.write(
        'apps/gateway/src/services.ts',
        'export const SERVICES = [];\n',
      );

      await expect(generate(tree)).rejects.toThrow(
        'apps/gateway/src/services.ts has no array DOWNSTREAM_SERVICES',
      );
    });

    it('rejects a workspace without a gateway project', async () => {
      tree.delete('apps/gateway');

      await expect(generate(tree)).rejects.toThrow(
        'This workspace has no project named "gateway"',
      );
    });

    it('rejects a name whose model the contracts export', async () => {
      tree.write(
        'libs/contracts/src/lib/models.ts',
        'export interface OrderItem {\n  sku: string;\n}\n',
      );

      await expect(generate(tree, { name: 'order' })).rejects.toThrow(
        'The service name "order" clashes with existing code: libs/contracts/src/lib/models.ts exports OrderItem already. Choose another name',
      );
    });

    it.each([
      ['a class', 'export class CreatePaymentsItemDto {}'],
      ['a constant', 'export const PAYMENTS_GRPC = {};'],
      ['a type', 'export type PaymentsList = string[];'],
      ['a named export', 'const x = 1;\nexport { x as PaymentsPatterns };'],
    ])('rejects a contracts export as %s', async (_case, text) => {
      tree.write('libs/contracts/src/lib/other.ts', `${text}\n`);

      await expect(generate(tree)).rejects.toThrow(
        'The service name "payments" clashes with existing code: libs/contracts/src/lib/other.ts exports',
      );
    });

    it('ignores contracts exports in specs and comments', async () => {
      tree.write(
        'libs/contracts/src/lib/other.spec.ts',
        'export interface PaymentsItem {}\n',
      );
      tree.write(
        'libs/contracts/src/lib/other.ts',
        '// export interface PaymentsItem {}\nexport const X = 1;\n',
      );

      await expect(generate(tree)).resolves.toBeDefined();
    });

    it('rejects a controller the gateway exports', async () => {
      tree.write(
        'apps/gateway/src/legacy.ts',
        'export class PaymentsController {}\n',
      );

      await expect(generate(tree)).rejects.toThrow(
        'apps/gateway/src/legacy.ts exports PaymentsController already',
      );
    });

    it('rejects a proto package that exists', async () => {
      tree.write(
        'libs/contracts/proto/legacy.proto',
        'syntax = "proto3";\npackage platform.payments;\n',
      );

      await expect(generate(tree)).rejects.toThrow(
        'libs/contracts/proto/legacy.proto declares the .proto package platform.payments already',
      );
    });

    it('rejects the class name of a generated service', async () => {
      await generate(tree, { name: 'pay-2' });

      await expect(generate(tree, { name: 'pay2' })).rejects.toThrow(
        'The service name "pay2" clashes with existing code',
      );
    });

    it('rejects the class name of a gateway entry', async () => {
      tree.write(
        'apps/gateway/src/services.ts',
        GATEWAY_SERVICES.replace("service: 'orders'", "service: 'pay-2'"),
      );

      await expect(generate(tree, { name: 'pay2' })).rejects.toThrow(
        'The service name "pay2" clashes with existing code: the entry of DOWNSTREAM_SERVICES "pay-2" has the same class name prefix, Pay2.',
      );
    });

    it('rejects the class name of a project', async () => {
      addProjectConfiguration(tree, 'pay_2', { root: 'libs/pay_2' });

      await expect(generate(tree, { name: 'pay-2' })).rejects.toThrow(
        'The service name "pay-2" clashes with existing code: the project "pay_2" has the same class name prefix, Pay2.',
      );
    });

    it('rejects generated code with syntax errors', async () => {
      tree.write(
        'apps/gateway/src/services.ts',
        `${GATEWAY_SERVICES}const = ;\n`,
      );

      await expect(generate(tree)).rejects.toThrow(
        'The generated TypeScript has syntax errors, so nothing was written.',
      );
    });

    it('writes nothing when an option is invalid', async () => {
      const before = tree.listChanges().length;

      await expect(generate(tree, { port: 80 })).rejects.toThrow();

      expect(tree.listChanges()).toHaveLength(before);
    });
  });
});

describe('addJestProject', () => {
  it('writes the project path as a string literal', () => {
    const tree = createWorkspace();
    const projectRoot =
      "apps/x',require('child_process').execSync('touch /tmp/p'),'y\\";

    addJestProject(tree, {
      name: 'x',
      projectRoot,
    } as NormalizedServiceOptions);

    const source = ts.createSourceFile(
      'jest.config.ts',
      read(tree, 'jest.config.ts'),
      ts.ScriptTarget.Latest,
    );
    const strings: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node)) {
        strings.push(node.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    expect(syntaxErrors(tree, 'jest.config.ts')).toEqual([]);
    expect(strings).toEqual([
      '<rootDir>/libs/contracts',
      '<rootDir>/e2e/jest.tcp.config.ts',
      `<rootDir>/${projectRoot}`,
    ]);
    expect(read(tree, 'jest.config.ts')).not.toContain("require('");
  });
});

describe('schema.json', () => {
  const schema = JSON.parse(
    readFileSync(join(__dirname, 'schema.json'), 'utf-8'),
  );

  it('rejects unknown options', () => {
    expect(schema.additionalProperties).toBe(false);
  });

  it('describes every option', () => {
    for (const [name, property] of Object.entries<{ description?: string }>(
      schema.properties,
    )) {
      expect({ name, description: property.description }).toEqual({
        name,
        description: expect.stringMatching(/\w{3,}/),
      });
    }
  });

  it('lists the options the generator reads', () => {
    expect(Object.keys(schema.properties).sort()).toEqual([
      'directory',
      'name',
      'port',
      'skipFormat',
      'tags',
      'transport',
    ]);
    expect(schema.required).toEqual(['name']);
  });

  it('takes the name from the first argument or a prompt', () => {
    expect(schema.properties.name.$default).toEqual({
      $source: 'argv',
      index: 0,
    });
    expect(schema.properties.name['x-prompt']).toEqual(expect.any(String));
  });

  it('offers every transport in its prompt', () => {
    const transport = schema.properties.transport;

    expect(transport.enum).toEqual([...TRANSPORTS]);
    expect(transport.default).toBe('tcp');
    expect(
      transport['x-prompt'].items.map((item: { value: string }) => item.value),
    ).toEqual([...TRANSPORTS]);
  });

  it('says skipFormat needs npm run format', () => {
    expect(schema.properties.skipFormat.description).toContain(
      'Run npm run format afterwards.',
    );
  });

  it('types the port as an integer', () => {
    expect(schema.properties.port.type).toBe('integer');
  });
});

describe('generators.json', () => {
  const pluginRoot = join(__dirname, '..', '..', '..');
  const packageJson = JSON.parse(
    readFileSync(join(pluginRoot, 'package.json'), 'utf-8'),
  );
  const generators = JSON.parse(
    readFileSync(join(pluginRoot, packageJson.generators), 'utf-8'),
  );

  it('names the package that nx g resolves', () => {
    expect(packageJson.name).toBe('@platform/nx-plugin');
  });

  it('points the service generator at this folder', () => {
    expect(generators.generators.service).toMatchObject({
      factory: './src/generators/service/service',
      schema: './src/generators/service/schema.json',
    });
  });
});
