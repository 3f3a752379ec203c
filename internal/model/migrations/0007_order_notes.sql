CREATE TABLE `order_notes` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`author_id` varchar(64) NOT NULL,
	`body` varchar(2000) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `order_notes_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `idx_order_notes_order` ON `order_notes` (`order_id`,`id`);