CREATE TABLE `shipment_items` (
	`shipment_id` bigint unsigned NOT NULL,
	`order_item_id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`quantity` int NOT NULL,
	CONSTRAINT `shipment_items_shipment_id_order_item_id_pk` PRIMARY KEY(`shipment_id`,`order_item_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_shipment_items_order` ON `shipment_items` (`order_id`);--> statement-breakpoint
CREATE INDEX `idx_shipments_order_id` ON `shipments` (`order_id`,`id`);--> statement-breakpoint
ALTER TABLE `shipments` DROP INDEX `uk_shipments_order_id`;--> statement-breakpoint
INSERT INTO `shipment_items` (`shipment_id`, `order_item_id`, `order_id`, `quantity`)
SELECT s.`id`, i.`id`, i.`order_id`, i.`quantity` FROM `shipments` s JOIN `order_items` i ON i.`order_id` = s.`order_id`;--> statement-breakpoint
ALTER TABLE `after_sales` ADD `shipment_id` bigint unsigned;--> statement-breakpoint
ALTER TABLE `after_sales` ADD `goods` varchar(16) DEFAULT 'DELIVERED' NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_orders_status_shipped` ON `orders` (`status`,`shipped_at`);
