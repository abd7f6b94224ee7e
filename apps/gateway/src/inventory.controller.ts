import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  InventoryPatterns,
  ListReservationsDto,
  ParseSkuPipe,
  Reservation,
  Stock,
} from '@platform/contracts';
import { ServiceClient } from '@platform/user-context';

import { InjectService } from './inject-service.decorator';

/** Forwards stock and reservation queries to the inventory service. */
@Controller('inventory')
export class InventoryController {
  constructor(
    @InjectService('inventory') private readonly inventory: ServiceClient,
  ) {}

  @Get()
  list(): Promise<Stock[]> {
    return this.inventory.send(InventoryPatterns.listStock, {});
  }

  @Get('reservations')
  reservations(@Query() query: ListReservationsDto): Promise<Reservation[]> {
    return this.inventory.send(InventoryPatterns.listReservations, query);
  }

  @Get(':sku')
  get(@Param('sku', ParseSkuPipe) sku: string): Promise<Stock> {
    return this.inventory.send(InventoryPatterns.getStock, { sku });
  }
}
