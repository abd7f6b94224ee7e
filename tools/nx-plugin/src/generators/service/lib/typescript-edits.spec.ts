import { applyChangesToString, Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';

import {
  addNamedImport,
  appendToArray,
  findArrayProperty,
  findArrayVariable,
  parseSource,
} from './typescript-edits';

function sourceOf(text: string) {
  const tree: Tree = createTreeWithEmptyWorkspace({ formatter: 'none' });
  tree.write('file.ts', text);
  return parseSource(tree, 'file.ts');
}

/** Appends `element` to the array of variable `LIST` and returns the new text. */
function appendToList(text: string, element: string): string {
  const source = sourceOf(text);
  const list = findArrayVariable(source, 'LIST');
  if (!list) {
    throw new Error('LIST was not found.');
  }
  return applyChangesToString(text, [appendToArray(source, list, element)]);
}

function importInto(text: string, symbol: string, from: string): string {
  return applyChangesToString(
    text,
    addNamedImport(sourceOf(text), symbol, from),
  );
}

describe('parseSource', () => {
  it('rejects a missing file', () => {
    const tree = createTreeWithEmptyWorkspace({ formatter: 'none' });

    expect(() => parseSource(tree, 'missing.ts')).toThrow(
      'missing.ts was not found.',
    );
  });
});

describe('findArrayVariable', () => {
  it.each([
    ['a plain array', 'const LIST = [1];'],
    ['as const', 'export const LIST = [1] as const;'],
    ['satisfies', 'export const LIST = [1] satisfies number[];'],
  ])('finds %s', (_case, text) => {
    expect(findArrayVariable(sourceOf(text), 'LIST')?.getText()).toBe('[1]');
  });

  it('ignores a variable that is no array', () => {
    expect(findArrayVariable(sourceOf('const LIST = 1;'), 'LIST')).toBe(
      undefined,
    );
  });
});

describe('findArrayProperty', () => {
  it('finds a nested property', () => {
    const source = sourceOf("export default { a: { projects: ['x'] } };");

    expect(findArrayProperty(source, 'projects')?.getText()).toBe("['x']");
  });
});

describe('appendToArray', () => {
  it('adds a line with the indentation of the last element', () => {
    expect(appendToList('const LIST = [\n  1,\n  2\n];', '3')).toBe(
      'const LIST = [\n  1,\n  2,\n  3\n];',
    );
  });

  it('keeps a trailing comma last', () => {
    expect(appendToList('const LIST = [\n  1,\n];', '2')).toBe(
      'const LIST = [\n  1,\n  2,\n];',
    );
  });

  it('indents every line of a multi-line element', () => {
    expect(appendToList('const LIST = [\n  {},\n];', '{\n  a: 1,\n}')).toBe(
      'const LIST = [\n  {},\n  {\n    a: 1,\n  },\n];',
    );
  });

  it('stays on the line of a one-line array', () => {
    expect(appendToList('const LIST = [1, 2];', '3')).toBe(
      'const LIST = [1, 2, 3];',
    );
  });

  it('fills an empty array', () => {
    expect(appendToList('const LIST = [];', '1')).toBe('const LIST = [1];');
  });
});

describe('addNamedImport', () => {
  it('adds the symbol to an import of the module', () => {
    expect(importInto("import { a } from 'm';\n", 'b', 'm')).toBe(
      "import { a, b } from 'm';\n",
    );
  });

  it('adds an import after the last one', () => {
    expect(
      importInto("import { a } from 'm';\n\nconst x = 1;\n", 'b', './b'),
    ).toBe(
      "import { a } from 'm';\nimport { b } from './b';\n\nconst x = 1;\n",
    );
  });

  it('adds an import to a file without imports', () => {
    expect(importInto('const x = 1;\n', 'b', './b')).toBe(
      "import { b } from './b';\n\nconst x = 1;\n",
    );
  });

  it('skips a type-only import of the module', () => {
    expect(importInto("import type { A } from 'm';\n", 'b', 'm')).toBe(
      "import type { A } from 'm';\nimport { b } from 'm';\n",
    );
  });

  it('changes nothing when the symbol is imported', () => {
    expect(importInto("import { a, b } from 'm';\n", 'b', 'm')).toBe(
      "import { a, b } from 'm';\n",
    );
  });
});
