/** Request/response patterns served by the orders service. */
export const OrdersPatterns = {
  create: 'orders.create',
  list: 'orders.list',
  get: 'orders.get',
} as const;

/** Request/response patterns served by the inventory service. */
export const InventoryPatterns = {
  listStock: 'inventory.stock.list',
  getStock: 'inventory.stock.get',
  listReservations: 'inventory.reservations.list',
} as const;

/** Events between orders and inventory. */
export const OrderEvents = {
  /** Orders stored a new pending order; inventory reserves its items. */
  created: 'order.created',
  /** Inventory reserved the items, or could not; orders sets the status. */
  reservationResult: 'order.reservation-result',
} as const;

/** Nest client tokens of the gateway and services. */
export const ORDERS_CLIENT = 'ORDERS_CLIENT';
export const INVENTORY_CLIENT = 'INVENTORY_CLIENT';
