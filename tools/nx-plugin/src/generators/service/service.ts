import { formatFiles, GeneratorCallback, logger, Tree } from '@nx/devkit';

import { addContract } from './lib/add-contract';
import { addGatewayRoute } from './lib/add-gateway-route';
import { addJestProject } from './lib/add-jest-project';
import { addServiceProject } from './lib/add-service-project';
import { checkSyntax } from './lib/check-syntax';
import { normalizeOptions } from './lib/normalize-options';
import { ServiceGeneratorSchema } from './schema';

/**
 * Adds a NestJS microservice that verifies the gateway's signed user
 * context: the app with its tests, its contract in the contracts library,
 * gateway routes that forward to it, and its entry in the root Jest config.
 */
export async function serviceGenerator(
  tree: Tree,
  schema: ServiceGeneratorSchema,
): Promise<GeneratorCallback> {
  const options = normalizeOptions(tree, schema);

  addServiceProject(tree, options);
  addContract(tree, options);
  addGatewayRoute(tree, options);
  addJestProject(tree, options);
  checkSyntax(tree);

  if (!options.skipFormat) {
    await formatFiles(tree);
  }
  return () => {
    logger.info(
      `Start it with: npx nx serve ${options.name} (port ${options.port}). Test it with: npx nx test ${options.name}.`,
    );
  };
}

export default serviceGenerator;
