// Packs the built library and runs the README's samples from the tarball in
// a new project outside the workspace. It needs a build first, which
// `npm test` and `npx nx run user-context:test-package` both run.
export default {
  displayName: 'user-context-package',
  preset: '../../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
};
