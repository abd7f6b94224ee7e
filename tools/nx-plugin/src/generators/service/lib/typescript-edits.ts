import { ChangeType, StringInsertion, Tree } from '@nx/devkit';
import * as ts from 'typescript';

/** Parses a TypeScript file of the tree; throws when it does not exist. */
export function parseSource(tree: Tree, path: string): ts.SourceFile {
  const text = tree.read(path, 'utf-8');
  if (text === null) {
    throw new Error(`${path} was not found.`);
  }
  return ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
}

/**
 * Finds the array literal that initializes the variable `name`, also when
 * it is wrapped in `as const` or `satisfies`.
 */
export function findArrayVariable(
  source: ts.SourceFile,
  name: string,
): ts.ArrayLiteralExpression | undefined {
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) {
      continue;
    }
    for (const declaration of statement.declarationList.declarations) {
      if (
        ts.isIdentifier(declaration.name) &&
        declaration.name.text === name &&
        declaration.initializer
      ) {
        return asArrayLiteral(declaration.initializer);
      }
    }
  }
  return undefined;
}

/** Finds the first array literal assigned to a property `name`, such as `projects: [...]`. */
export function findArrayProperty(
  source: ts.SourceFile,
  name: string,
): ts.ArrayLiteralExpression | undefined {
  let found: ts.ArrayLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (found) {
      return;
    }
    if (
      ts.isPropertyAssignment(node) &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      node.name.text === name
    ) {
      found = asArrayLiteral(node.initializer);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Returns the insertion that adds `element` after the last element of
 * `array`: on a line of its own with the indentation of that element, or on
 * the same line when the array is written on one line.
 */
export function appendToArray(
  source: ts.SourceFile,
  array: ts.ArrayLiteralExpression,
  element: string,
): StringInsertion {
  const last = array.elements[array.elements.length - 1];
  if (!last) {
    return {
      type: ChangeType.Insert,
      index: array.elements.pos,
      text: element,
    };
  }
  if (onOneLine(source, array.getStart(source), last.getStart(source))) {
    return {
      type: ChangeType.Insert,
      index: last.getEnd(),
      text: `, ${element}`,
    };
  }
  const indent = indentationOf(source, last);
  return {
    type: ChangeType.Insert,
    index: last.getEnd(),
    text: `,\n${element.replace(/^/gm, indent)}`,
  };
}

/**
 * Returns the insertions that import `symbol` from `moduleSpecifier`: into
 * an existing named import of that module, or as a new import after the
 * last one. Returns none when the symbol is imported already.
 */
export function addNamedImport(
  source: ts.SourceFile,
  symbol: string,
  moduleSpecifier: string,
): StringInsertion[] {
  const imports = source.statements.filter(ts.isImportDeclaration);
  const named = imports
    .filter(
      (declaration) =>
        ts.isStringLiteral(declaration.moduleSpecifier) &&
        declaration.moduleSpecifier.text === moduleSpecifier &&
        !declaration.importClause?.isTypeOnly,
    )
    .map((declaration) => declaration.importClause?.namedBindings)
    .find((bindings): bindings is ts.NamedImports =>
      Boolean(bindings && ts.isNamedImports(bindings)),
    );

  if (named?.elements.some((element) => element.name.text === symbol)) {
    return [];
  }
  const last = named?.elements[named.elements.length - 1];
  if (last) {
    return [
      { type: ChangeType.Insert, index: last.getEnd(), text: `, ${symbol}` },
    ];
  }
  const statement = `import { ${symbol} } from '${moduleSpecifier}';`;
  const lastImport = imports[imports.length - 1];
  return [
    lastImport
      ? {
          type: ChangeType.Insert,
          index: lastImport.getEnd(),
          text: `\n${statement}`,
        }
      : { type: ChangeType.Insert, index: 0, text: `${statement}\n\n` },
  ];
}

/**
 * Returns `text` as a single-quoted TypeScript string literal, with quotes,
 * backslashes and line breaks escaped, so that it cannot end the string.
 */
export function stringLiteral(text: string): string {
  const source = ts.createSourceFile('literal.ts', '', ts.ScriptTarget.Latest);
  return ts
    .createPrinter()
    .printNode(
      ts.EmitHint.Expression,
      ts.factory.createStringLiteral(text, true),
      source,
    );
}

function asArrayLiteral(
  expression: ts.Expression,
): ts.ArrayLiteralExpression | undefined {
  let inner = expression;
  while (
    ts.isAsExpression(inner) ||
    ts.isSatisfiesExpression(inner) ||
    ts.isParenthesizedExpression(inner)
  ) {
    inner = inner.expression;
  }
  return ts.isArrayLiteralExpression(inner) ? inner : undefined;
}

function indentationOf(source: ts.SourceFile, node: ts.Node): string {
  const start = node.getStart(source);
  const lineStart = source.text.lastIndexOf('\n', start - 1) + 1;
  const indent = source.text.slice(lineStart, start);
  return /^\s*$/.test(indent) ? indent : '';
}

function onOneLine(
  source: ts.SourceFile,
  first: number,
  second: number,
): boolean {
  return (
    source.getLineAndCharacterOfPosition(first).line ===
    source.getLineAndCharacterOfPosition(second).line
  );
}
