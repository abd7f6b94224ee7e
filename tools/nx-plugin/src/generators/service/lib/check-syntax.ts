import { Tree } from '@nx/devkit';
import * as ts from 'typescript';

/**
 * Throws when a TypeScript file that the generator created or changed has
 * syntax errors, so that nothing is written. Without this check Nx's
 * formatFiles only logs "Could not format" and the generator exits 0.
 */
export function checkSyntax(tree: Tree): void {
  const problems: string[] = [];
  for (const change of tree.listChanges()) {
    if (change.type === 'DELETE' || !change.path.endsWith('.ts')) {
      continue;
    }
    const { diagnostics = [] } = ts.transpileModule(
      tree.read(change.path, 'utf-8') ?? '',
      { fileName: change.path, reportDiagnostics: true },
    );
    for (const diagnostic of diagnostics) {
      const message = ts.flattenDiagnosticMessageText(
        diagnostic.messageText,
        '\n',
      );
      problems.push(`${change.path}: ${message}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `The generated TypeScript has syntax errors, so nothing was written. Choose another service name, or report this as a bug of the generator:\n${problems.join('\n')}`,
    );
  }
}
