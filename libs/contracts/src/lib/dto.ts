import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import { OrderStatus } from './models';

/** Stock keeping units: 1-64 letters, digits and dashes, such as `KB-001`. */
export const SKU_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000;

export class OrderItemDto {
  @IsString()
  @Matches(SKU_PATTERN, {
    message: 'sku must be 1-64 letters, digits or dashes',
  })
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;
}

export class CreateOrderDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_LINES)
  // ValidateNested alone lets nested arrays such as [[]] through: class-validator
  // 0.14 validates the inner array's elements, not the array itself.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  items!: OrderItemDto[];
}

export class OrderIdDto {
  @IsUUID()
  id!: string;
}

export class SkuDto {
  @IsString()
  @Matches(SKU_PATTERN, {
    message: 'sku must be 1-64 letters, digits or dashes',
  })
  sku!: string;
}

export class ListReservationsDto {
  @IsOptional()
  @IsUUID()
  orderId?: string;
}

export class OrderCreatedEvent extends CreateOrderDto {
  @IsUUID()
  orderId!: string;
}

export class ReservationResultEvent {
  @IsUUID()
  orderId!: string;

  @IsIn(['confirmed', 'rejected'])
  status!: Exclude<OrderStatus, 'pending'>;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
