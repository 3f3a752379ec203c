CREATE TABLE `order_hidden` (
	`order_id` bigint unsigned NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`hidden_at` datetime(3) NOT NULL,
	CONSTRAINT `order_hidden_order_id` PRIMARY KEY(`order_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_order_hidden_user` ON `order_hidden` (`user_id`);