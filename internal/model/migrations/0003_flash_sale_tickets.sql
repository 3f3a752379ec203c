CREATE TABLE `flash_sale_tickets` (
	`id` bigint unsigned NOT NULL,
	`sale_id` bigint unsigned NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`quantity` int NOT NULL,
	`status` varchar(16) NOT NULL,
	`order_id` bigint unsigned,
	`failure_reason` varchar(200),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `flash_sale_tickets_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `idx_flash_sale_tickets_sale` ON `flash_sale_tickets` (`sale_id`,`status`);--> statement-breakpoint
CREATE INDEX `idx_flash_sale_tickets_order` ON `flash_sale_tickets` (`order_id`);