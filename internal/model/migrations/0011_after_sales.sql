CREATE TABLE `after_sale_lines` (
	`after_sale_id` bigint unsigned NOT NULL,
	`order_item_id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`quantity` int NOT NULL,
	`amount` bigint NOT NULL,
	CONSTRAINT `after_sale_lines_after_sale_id_order_item_id_pk` PRIMARY KEY(`after_sale_id`,`order_item_id`)
);
--> statement-breakpoint
CREATE TABLE `after_sale_log` (
	`id` bigint unsigned NOT NULL,
	`after_sale_id` bigint unsigned NOT NULL,
	`from_status` varchar(24),
	`to_status` varchar(24) NOT NULL,
	`version` int NOT NULL,
	`actor_type` varchar(16) NOT NULL,
	`actor_id` varchar(64) NOT NULL DEFAULT '',
	`reason` varchar(200) NOT NULL DEFAULT '',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `after_sale_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `after_sales` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`kind` varchar(24) NOT NULL,
	`status` varchar(24) NOT NULL,
	`reason` varchar(200) NOT NULL,
	`evidence` json NOT NULL,
	`items_amount` bigint NOT NULL,
	`shipping_amount` bigint NOT NULL DEFAULT 0,
	`refund_id` bigint unsigned,
	`return_carrier` varchar(32),
	`return_tracking_no` varchar(64),
	`review_note` varchar(200) NOT NULL DEFAULT '',
	`version` int NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `after_sales_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `refunds` ADD `after_sale_id` bigint unsigned;--> statement-breakpoint
CREATE INDEX `idx_after_sale_lines_order` ON `after_sale_lines` (`order_id`);--> statement-breakpoint
CREATE INDEX `idx_after_sale_log_after_sale` ON `after_sale_log` (`after_sale_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_after_sales_order_id` ON `after_sales` (`order_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_after_sales_status_id` ON `after_sales` (`status`,`id`);