import { generateFiles, Tree } from '@nx/devkit';
import { join } from 'node:path';

import { NormalizedServiceOptions } from './normalize-options';

/**
 * Writes the templates of one folder under files/ into `target`, with the
 * normalized options as variables. `tmpl` empties the `__tmpl__` suffix that
 * keeps the templates out of builds and tests.
 */
export function generateTemplates(
  tree: Tree,
  folder: 'app' | 'contracts' | 'proto' | 'gateway',
  target: string,
  options: NormalizedServiceOptions,
): void {
  generateFiles(tree, join(__dirname, '..', 'files', folder), target, {
    ...options,
    tmpl: '',
  });
}
