import { e2eConfig } from './jest.config';

export default e2eConfig('nats');
