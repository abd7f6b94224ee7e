import { applyChangesToString, joinPathFragments, Tree } from '@nx/devkit';
import * as ts from 'typescript';

import { generateTemplates } from './generate-templates';
import { NormalizedServiceOptions } from './normalize-options';
import {
  addNamedImport,
  appendToArray,
  findArrayVariable,
  parseSource,
} from './typescript-edits';

/** Name of the gateway's list of the services it calls, in services.ts. */
export const SERVICES_LIST = 'DOWNSTREAM_SERVICES';

/**
 * Adds the gateway's controller for the service, and the service's entry
 * in the gateway's service list, from which the gateway builds its
 * configuration, clients and routes.
 */
export function addGatewayRoute(
  tree: Tree,
  options: NormalizedServiceOptions,
): void {
  generateTemplates(tree, 'gateway', options.gatewaySourceRoot, options);

  const path = joinPathFragments(options.gatewaySourceRoot, 'services.ts');
  if (!tree.exists(path)) {
    throw new Error(
      `${path} was not found. The generator adds the service to the ${SERVICES_LIST} list there; restore that file from git.`,
    );
  }
  const source = parseSource(tree, path);
  const list = findArrayVariable(source, SERVICES_LIST);
  if (!list) {
    throw new Error(
      `${path} has no array ${SERVICES_LIST}, where the gateway lists the services it calls. Restore it from git, or add the service there by hand.`,
    );
  }
  if (listsService(list, options.name)) {
    throw new Error(
      `${path} lists a service named "${options.name}" already. Remove that entry first, or choose another name.`,
    );
  }

  tree.write(
    path,
    applyChangesToString(source.text, [
      ...addNamedImport(
        source,
        `${options.constantName}_GRPC`,
        '@platform/contracts',
      ),
      ...addNamedImport(
        source,
        `${options.className}Controller`,
        `./${options.name}.controller`,
      ),
      appendToArray(source, list, serviceEntry(options)),
    ]),
  );
}

function serviceEntry(options: NormalizedServiceOptions): string {
  return [
    '{',
    `  service: '${options.name}',`,
    `  defaultPort: ${options.port},`,
    `  grpc: ${options.constantName}_GRPC,`,
    // TCP is the gateway's default already.
    ...(options.transport === 'tcp'
      ? []
      : [`  transport: '${options.transport}',`]),
    `  controllers: [${options.className}Controller],`,
    '}',
  ].join('\n');
}

function listsService(list: ts.ArrayLiteralExpression, name: string): boolean {
  return list.elements.some(
    (element) =>
      ts.isObjectLiteralExpression(element) &&
      element.properties.some(
        (property) =>
          ts.isPropertyAssignment(property) &&
          ts.isIdentifier(property.name) &&
          property.name.text === 'service' &&
          ts.isStringLiteral(property.initializer) &&
          property.initializer.text === name,
      ),
  );
}
