export { serviceGenerator } from './generators/service/service';
export type {
  ServiceGeneratorSchema,
  ServiceTransport,
} from './generators/service/schema';
