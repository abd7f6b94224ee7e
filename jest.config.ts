// Runs every project's Jest suite in one process tree: the library specs and
// the end-to-end suites, which need the apps built first (`npm test` does).
export default {
  projects: ['<rootDir>/libs/contracts', '<rootDir>/libs/user-context', '<rootDir>/e2e'],
};
