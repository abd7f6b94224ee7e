import { Stock } from '@platform/contracts';

/** Demo catalog written to a fresh inventory database; the README lists it too. */
export const DEMO_CATALOG: ReadonlyArray<Omit<Stock, 'reserved'>> = [
  { sku: 'KB-001', name: 'Mechanical keyboard', available: 50 },
  { sku: 'MS-002', name: 'Wireless mouse', available: 100 },
  { sku: 'MN-003', name: '27-inch monitor', available: 10 },
  { sku: 'CB-004', name: 'USB-C cable', available: 500 },
  { sku: 'LS-005', name: 'Laptop stand', available: 0 },
];
