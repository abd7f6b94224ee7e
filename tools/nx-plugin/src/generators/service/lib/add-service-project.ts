import { addProjectConfiguration, joinPathFragments, Tree } from '@nx/devkit';

import { generateTemplates } from './generate-templates';
import { NormalizedServiceOptions } from './normalize-options';

/** Adds the service's project: project.json with the house targets, and the app's files. */
export function addServiceProject(
  tree: Tree,
  options: NormalizedServiceOptions,
): void {
  const { name, projectRoot } = options;
  addProjectConfiguration(tree, name, {
    root: projectRoot,
    sourceRoot: joinPathFragments(projectRoot, 'src'),
    projectType: 'application',
    tags: options.tags,
    targets: {
      build: {
        executor: '@nx/js:tsc',
        outputs: ['{options.outputPath}'],
        options: {
          outputPath: joinPathFragments('dist', projectRoot),
          main: joinPathFragments(projectRoot, 'src/main.ts'),
          tsConfig: joinPathFragments(projectRoot, 'tsconfig.app.json'),
          rootDir: joinPathFragments(projectRoot, 'src'),
          generatePackageJson: false,
          clean: true,
        },
      },
      serve: {
        executor: '@nx/js:node',
        dependsOn: ['build'],
        // Continuous tasks do not take one of the --parallel slots of
        // `npm start`, which would otherwise start only the first three apps.
        continuous: true,
        options: {
          buildTarget: `${name}:build`,
          watch: false,
          inspect: false,
        },
      },
      test: {
        executor: '@nx/jest:jest',
        outputs: ['{workspaceRoot}/coverage/{projectRoot}'],
        options: {
          jestConfig: joinPathFragments(projectRoot, 'jest.config.ts'),
        },
      },
    },
  });

  generateTemplates(tree, 'app', projectRoot, options);
}
