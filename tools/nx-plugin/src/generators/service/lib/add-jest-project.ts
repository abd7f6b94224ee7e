import { applyChangesToString, logger, Tree } from '@nx/devkit';

import { NormalizedServiceOptions } from './normalize-options';
import {
  appendToArray,
  findArrayProperty,
  parseSource,
  stringLiteral,
} from './typescript-edits';

const ROOT_JEST_CONFIG = 'jest.config.ts';

/** Lists the new project in the root jest.config.ts, so that `npm test` runs its specs. */
export function addJestProject(
  tree: Tree,
  options: NormalizedServiceOptions,
): void {
  if (!tree.exists(ROOT_JEST_CONFIG)) {
    logger.warn(
      `${ROOT_JEST_CONFIG} was not found; run the new project's tests with nx test ${options.name}.`,
    );
    return;
  }
  const source = parseSource(tree, ROOT_JEST_CONFIG);
  const projects = findArrayProperty(source, 'projects');
  if (!projects) {
    throw new Error(
      `${ROOT_JEST_CONFIG} has no "projects" array. Restore it from git, or add '<rootDir>/${options.projectRoot}' to Jest's projects by hand.`,
    );
  }
  tree.write(
    ROOT_JEST_CONFIG,
    applyChangesToString(source.text, [
      appendToArray(
        source,
        projects,
        stringLiteral(`<rootDir>/${options.projectRoot}`),
      ),
    ]),
  );
}
