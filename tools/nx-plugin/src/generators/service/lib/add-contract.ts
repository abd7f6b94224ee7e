import { joinPathFragments, Tree } from '@nx/devkit';

import { generateTemplates } from './generate-templates';
import { NormalizedServiceOptions } from './normalize-options';

/**
 * Adds the service's contract to the contracts library: patterns, models,
 * the DTO and the gRPC contract with its `.proto` file, exported from the
 * library's index.
 */
export function addContract(
  tree: Tree,
  options: NormalizedServiceOptions,
): void {
  generateTemplates(tree, 'contracts', options.contractsSourceRoot, options);
  generateTemplates(
    tree,
    'proto',
    joinPathFragments(options.contractsRoot, 'proto'),
    options,
  );

  const index = joinPathFragments(options.contractsSourceRoot, 'index.ts');
  const text = tree.read(index, 'utf-8');
  if (text === null) {
    throw new Error(
      `${index} was not found: the contracts library needs an index that exports its files.`,
    );
  }
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  tree.write(
    index,
    `${text}${separator}export * from './lib/${options.name}.contract';\n`,
  );
}
