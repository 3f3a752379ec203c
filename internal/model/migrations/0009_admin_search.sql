ALTER TABLE `orders` ADD `phone_last4` varchar(4) GENERATED ALWAYS AS (RIGHT(JSON_UNQUOTE(JSON_EXTRACT(address, '$.phone')), 4)) VIRTUAL;--> statement-breakpoint
CREATE INDEX `idx_order_items_sku_order` ON `order_items` (`sku_id`,`order_id`);--> statement-breakpoint
CREATE INDEX `idx_orders_status_id` ON `orders` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `idx_orders_source_id` ON `orders` (`source`,`id`);--> statement-breakpoint
CREATE INDEX `idx_orders_phone_last4_id` ON `orders` (`phone_last4`,`id`);--> statement-breakpoint
DROP INDEX `idx_order_items_sku_id` ON `order_items`;
