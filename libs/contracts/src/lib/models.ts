export type OrderStatus = 'pending' | 'confirmed' | 'rejected';

export interface OrderItem {
  sku: string;
  quantity: number;
}

export interface Order {
  id: string;
  items: OrderItem[];
  status: OrderStatus;
  createdBy: string;
  /** ISO 8601 timestamp. */
  createdAt: string;
}

export interface Stock {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

export interface Reservation {
  orderId: string;
  sku: string;
  quantity: number;
  reservedBy: string;
  /** ISO 8601 timestamp. */
  reservedAt: string;
}
