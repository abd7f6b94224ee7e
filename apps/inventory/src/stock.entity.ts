import { Column, Entity, PrimaryColumn } from 'typeorm';

import { Stock } from '@platform/contracts';

@Entity('stock')
export class StockEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sku!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Units that can still be reserved. */
  @Column({ type: 'integer' })
  available!: number;

  /** Units held by confirmed reservations. */
  @Column({ type: 'integer', default: 0 })
  reserved!: number;

  toStock(): Stock {
    return {
      sku: this.sku,
      name: this.name,
      available: this.available,
      reserved: this.reserved,
    };
  }
}
