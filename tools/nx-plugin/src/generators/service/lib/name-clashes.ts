import {
  joinPathFragments,
  names,
  ProjectConfiguration,
  Tree,
  visitNotIgnoredFiles,
} from '@nx/devkit';
import * as ts from 'typescript';

import { SERVICES_LIST } from './add-gateway-route';
import { envPrefixOf } from './env-prefix';
import { findArrayVariable, parseSource } from './typescript-edits';

/** Names of the service that the generator puts into shared code. */
export interface ServiceIdentifiers {
  name: string;
  className: string;
  constantName: string;
  protoPackage: string;
  gatewaySourceRoot: string;
  contractsRoot: string;
  contractsSourceRoot: string;
}

/**
 * Throws when a name the generator would export is exported already from
 * the contracts library or the gateway, when the `.proto` package exists,
 * or when another service or project has the same class or constant name.
 * Any of these would break the build of the contracts library or the
 * gateway, which import every service's names side by side.
 */
export function checkNameClashes(
  tree: Tree,
  projects: Map<string, ProjectConfiguration>,
  service: ServiceIdentifiers,
): void {
  const { className, constantName } = service;
  const contractExports = exportedNames(tree, service.contractsSourceRoot);
  const contractNames = [
    `${className}Item`,
    `${className}List`,
    `${className}Patterns`,
    `Create${className}ItemDto`,
    `${constantName}_GRPC`,
  ];
  for (const exported of contractNames) {
    const file = contractExports.get(exported);
    if (file) {
      throw clash(service, `${file} exports ${exported} already`);
    }
  }

  const controller = `${className}Controller`;
  const gatewayFile = exportedNames(tree, service.gatewaySourceRoot).get(
    controller,
  );
  if (gatewayFile) {
    throw clash(service, `${gatewayFile} exports ${controller} already`);
  }

  const protoFile = protoFileOfPackage(tree, service);
  if (protoFile) {
    throw clash(
      service,
      `${protoFile} declares the .proto package ${service.protoPackage} already`,
    );
  }

  const others = [
    ...[...projects.keys()].map((name) => ({ name, kind: 'project' })),
    ...listedServices(tree, service.gatewaySourceRoot).map((name) => ({
      name,
      kind: `entry of ${SERVICES_LIST}`,
    })),
  ];
  for (const other of others) {
    if (other.name === service.name) {
      continue;
    }
    if (names(other.name).className === className) {
      throw clash(
        service,
        `the ${other.kind} "${other.name}" has the same class name prefix, ${className}`,
      );
    }
    if (envPrefixOf(other.name) === constantName) {
      throw clash(
        service,
        `the ${other.kind} "${other.name}" has the same constant prefix, ${constantName}`,
      );
    }
  }
}

function clash(service: ServiceIdentifiers, reason: string): Error {
  return new Error(
    `The service name "${service.name}" clashes with existing code: ${reason}. Choose another name, such as "${service.name}-service".`,
  );
}

/** Returns each name that a TypeScript file under `folder` exports, with that file. Specs are skipped. */
function exportedNames(tree: Tree, folder: string): Map<string, string> {
  const exported = new Map<string, string>();
  if (!tree.exists(folder)) {
    return exported;
  }
  visitNotIgnoredFiles(tree, folder, (file) => {
    if (!file.endsWith('.ts') || /\.spec\.ts$|\.d\.ts$/.test(file)) {
      return;
    }
    for (const name of exportsOf(parseSource(tree, file))) {
      exported.set(name, file);
    }
  });
  return exported;
}

function exportsOf(source: ts.SourceFile): string[] {
  const found: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      if (clause && ts.isNamedExports(clause)) {
        found.push(...clause.elements.map((element) => element.name.text));
      }
      continue;
    }
    const exported =
      ts.canHaveModifiers(statement) &&
      ts
        .getModifiers(statement)
        ?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) {
      continue;
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) {
          found.push(declaration.name.text);
        }
      }
    } else if (
      (ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isFunctionDeclaration(statement)) &&
      statement.name
    ) {
      found.push(statement.name.text);
    }
  }
  return found;
}

/** Returns the `.proto` file of the contracts library that declares the service's package. */
function protoFileOfPackage(
  tree: Tree,
  service: ServiceIdentifiers,
): string | undefined {
  const folder = joinPathFragments(service.contractsRoot, 'proto');
  if (!tree.exists(folder)) {
    return undefined;
  }
  const declaration = new RegExp(
    `^\\s*package\\s+${service.protoPackage.replace(/\./g, '\\.')}\\s*;`,
    'm',
  );
  return tree
    .children(folder)
    .map((child) => joinPathFragments(folder, child))
    .find(
      (file) =>
        file.endsWith('.proto') &&
        declaration.test(tree.read(file, 'utf-8') ?? ''),
    );
}

/** Returns the `service` names of the gateway's service list. */
function listedServices(tree: Tree, gatewaySourceRoot: string): string[] {
  const path = joinPathFragments(gatewaySourceRoot, 'services.ts');
  if (!tree.exists(path)) {
    return [];
  }
  const list = findArrayVariable(parseSource(tree, path), SERVICES_LIST);
  const services: string[] = [];
  for (const element of list?.elements ?? []) {
    if (!ts.isObjectLiteralExpression(element)) {
      continue;
    }
    for (const property of element.properties) {
      if (
        ts.isPropertyAssignment(property) &&
        ts.isIdentifier(property.name) &&
        property.name.text === 'service' &&
        ts.isStringLiteral(property.initializer)
      ) {
        services.push(property.initializer.text);
      }
    }
  }
  return services;
}
