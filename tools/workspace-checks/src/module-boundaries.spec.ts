import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * The cases run the eslint command on source text with a path in the
 * workspace, so the real config and Nx project graph apply and no file is
 * written where a parallel build could compile it. ESLint's Node API cannot
 * load the ESM config inside Jest, hence the child process.
 */
const WORKSPACE = resolve(__dirname, '..', '..', '..');
const ESLINT = join(WORKSPACE, 'node_modules', 'eslint', 'bin', 'eslint.js');

function runEslint(filePath: string, text: string): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    [ESLINT, '--format', 'json', '--stdin', '--stdin-filename', filePath],
    { cwd: WORKSPACE, input: text, encoding: 'utf8' },
  );
}

function lintAs(filePath: string, text: string): string[] {
  const run = runEslint(filePath, text);
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(
      `eslint failed with exit code ${run.status}: ${run.stderr}`,
    );
  }
  const [result] = JSON.parse(run.stdout) as {
    messages: { ruleId: string; message: string }[];
  }[];
  return result.messages.map(
    (message) => `${message.ruleId}: ${message.message}`,
  );
}

/** Source that imports `name` from `from`, and uses it. */
function importing(name: string, from: string): string {
  return `import { ${name} } from '${from}';\nexport const used = ${name};\n`;
}

describe('module boundaries', () => {
  it.each([
    [
      'an app importing a lib by relative path',
      'apps/orders/src/violation.ts',
      importing('UserContextModule', '../../../libs/user-context/src'),
      /^@nx\/enforce-module-boundaries: Projects cannot be imported by a relative/,
    ],
    [
      'an app reaching past a lib index',
      'apps/orders/src/violation.ts',
      importing(
        'ContextEnvelopeCodec',
        '@platform/user-context/src/lib/envelope/context-envelope.codec',
      ),
      /^no-restricted-imports: .*public alias/,
    ],
    [
      'a lib importing an app',
      'libs/contracts/src/lib/violation.ts',
      importing('OrdersService', '../../../../apps/orders/src/orders.service'),
      /^@nx\/enforce-module-boundaries: /,
    ],
    [
      'one app importing another',
      'apps/gateway/src/violation.ts',
      importing('OrdersService', '../../orders/src/orders.service'),
      /^@nx\/enforce-module-boundaries: /,
    ],
    [
      'a lib importing the lib that depends on it',
      'libs/user-context/src/lib/violation.ts',
      importing('OrdersPatterns', '@platform/contracts'),
      /^@nx\/enforce-module-boundaries: Circular dependency/,
    ],
    [
      'a dynamic import past a lib index',
      'apps/orders/src/violation.ts',
      "export const later = () =>\n  import('@platform/user-context/src/lib/transport/envelope-gate');\n",
      /^no-restricted-syntax: .*public alias/,
    ],
    [
      'an import type past a lib index',
      'apps/orders/src/violation.ts',
      "export type Gate = typeof import('@platform/user-context/src/lib/transport/envelope-gate');\n",
      /^no-restricted-syntax: .*public alias/,
    ],
  ])('should reject %s', (_case, filePath, text, rule) => {
    expect(lintAs(filePath, text)).toEqual([expect.stringMatching(rule)]);
  });

  it('should accept an app importing a lib through its alias', () => {
    const messages = lintAs(
      'apps/orders/src/allowed.ts',
      importing('UserContextModule', '@platform/user-context'),
    );

    expect(messages).toEqual([]);
  });

  it('should accept a dynamic import of a lib alias', () => {
    const messages = lintAs(
      'apps/orders/src/allowed.ts',
      "export const later = () => import('@platform/contracts');\n",
    );

    expect(messages).toEqual([]);
  });

  it('should fail the eslint command on a violation', () => {
    const run = runEslint(
      'apps/orders/src/violation.ts',
      importing('UserContextModule', '../../../libs/user-context/src'),
    );

    expect(run.status).toBe(1);
    expect(run.stdout).toContain('@nx/enforce-module-boundaries');
  });
});
