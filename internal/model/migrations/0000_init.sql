CREATE TABLE `consumed_messages` (
	`consumer_group` varchar(64) NOT NULL,
	`event_id` varchar(64) NOT NULL,
	`topic` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `consumed_messages_consumer_group_event_id_pk` PRIMARY KEY(`consumer_group`,`event_id`)
);
--> statement-breakpoint
CREATE TABLE `flash_sales` (
	`id` bigint unsigned NOT NULL,
	`sku_id` bigint unsigned NOT NULL,
	`title` varchar(200) NOT NULL,
	`price` bigint NOT NULL,
	`stock` int NOT NULL,
	`sold` int NOT NULL DEFAULT 0,
	`per_user_limit` int NOT NULL DEFAULT 1,
	`status` varchar(16) NOT NULL,
	`starts_at` datetime(3) NOT NULL,
	`ends_at` datetime(3) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `flash_sales_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` varchar(96) NOT NULL,
	`idem_key` varchar(128) NOT NULL,
	`request_hash` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`response_status` int,
	`response_body` mediumtext,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `idempotency_keys_scope_idem_key_pk` PRIMARY KEY(`scope`,`idem_key`)
);
--> statement-breakpoint
CREATE TABLE `mq_tx_log` (
	`id` bigint unsigned NOT NULL,
	`event_id` varchar(36) NOT NULL,
	`topic` varchar(64) NOT NULL,
	`event_type` varchar(64) NOT NULL,
	`message_key` varchar(64) NOT NULL,
	`payload` json NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `mq_tx_log_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_mq_tx_log_event_id` UNIQUE(`event_id`)
);
--> statement-breakpoint
CREATE TABLE `order_items` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`sku_id` bigint unsigned NOT NULL,
	`title` varchar(200) NOT NULL,
	`unit_price` bigint NOT NULL,
	`quantity` int NOT NULL,
	`line_total` bigint NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `order_items_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `order_status_log` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`from_status` varchar(24) NOT NULL,
	`to_status` varchar(24) NOT NULL,
	`version` int NOT NULL,
	`actor_type` varchar(16) NOT NULL,
	`actor_id` varchar(64) NOT NULL DEFAULT '',
	`reason` varchar(200) NOT NULL DEFAULT '',
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `order_status_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `orders` (
	`id` bigint unsigned NOT NULL,
	`order_no` varchar(32) NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`status` varchar(24) NOT NULL,
	`currency` varchar(3) NOT NULL,
	`items_amount` bigint NOT NULL,
	`shipping_fee` bigint NOT NULL DEFAULT 0,
	`discount_amount` bigint NOT NULL DEFAULT 0,
	`total_amount` bigint NOT NULL,
	`paid_amount` bigint NOT NULL DEFAULT 0,
	`refunded_amount` bigint NOT NULL DEFAULT 0,
	`address` json NOT NULL,
	`note` varchar(500) NOT NULL DEFAULT '',
	`source` varchar(16) NOT NULL DEFAULT 'APP',
	`version` int NOT NULL DEFAULT 0,
	`pay_deadline` datetime(3) NOT NULL,
	`paid_at` datetime(3),
	`shipped_at` datetime(3),
	`delivered_at` datetime(3),
	`completed_at` datetime(3),
	`cancelled_at` datetime(3),
	`cancel_reason` varchar(32),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `orders_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_orders_order_no` UNIQUE(`order_no`)
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`provider` varchar(32) NOT NULL,
	`provider_txn_id` varchar(64),
	`amount` bigint NOT NULL,
	`currency` varchar(3) NOT NULL,
	`status` varchar(16) NOT NULL,
	`succeeded_order_id` bigint unsigned,
	`failure_reason` varchar(200),
	`raw` json,
	`paid_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `payments_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_payments_succeeded_order` UNIQUE(`succeeded_order_id`),
	CONSTRAINT `uk_payments_provider_txn` UNIQUE(`provider`,`provider_txn_id`)
);
--> statement-breakpoint
CREATE TABLE `refunds` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`payment_id` bigint unsigned NOT NULL,
	`kind` varchar(24) NOT NULL,
	`amount` bigint NOT NULL,
	`reason` varchar(200) NOT NULL DEFAULT '',
	`status` varchar(16) NOT NULL,
	`restock` boolean NOT NULL DEFAULT false,
	`provider_refund_id` varchar(64),
	`refunded_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `refunds_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `shipments` (
	`id` bigint unsigned NOT NULL,
	`order_id` bigint unsigned NOT NULL,
	`carrier` varchar(32) NOT NULL,
	`tracking_no` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`shipped_at` datetime(3) NOT NULL,
	`delivered_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `shipments_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_shipments_order_id` UNIQUE(`order_id`),
	CONSTRAINT `uk_shipments_tracking` UNIQUE(`carrier`,`tracking_no`)
);
--> statement-breakpoint
CREATE TABLE `skus` (
	`id` bigint unsigned NOT NULL,
	`title` varchar(200) NOT NULL,
	`price` bigint NOT NULL,
	`currency` varchar(3) NOT NULL DEFAULT 'CNY',
	`available` int NOT NULL DEFAULT 0,
	`reserved` int NOT NULL DEFAULT 0,
	`sold` int NOT NULL DEFAULT 0,
	`status` varchar(16) NOT NULL DEFAULT 'ON_SALE',
	`version` int NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `skus_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `idx_consumed_messages_created_at` ON `consumed_messages` (`created_at`);--> statement-breakpoint
CREATE INDEX `idx_flash_sales_sku_id` ON `flash_sales` (`sku_id`);--> statement-breakpoint
CREATE INDEX `idx_flash_sales_window` ON `flash_sales` (`status`,`starts_at`);--> statement-breakpoint
CREATE INDEX `idx_idempotency_keys_expires` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE INDEX `idx_mq_tx_log_created_at` ON `mq_tx_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `idx_order_items_order_id` ON `order_items` (`order_id`);--> statement-breakpoint
CREATE INDEX `idx_order_items_sku_id` ON `order_items` (`sku_id`);--> statement-breakpoint
CREATE INDEX `idx_order_status_log_order_id` ON `order_status_log` (`order_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_orders_user_id` ON `orders` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_orders_status_deadline` ON `orders` (`status`,`pay_deadline`);--> statement-breakpoint
CREATE INDEX `idx_orders_status_delivered` ON `orders` (`status`,`delivered_at`);--> statement-breakpoint
CREATE INDEX `idx_orders_created_at` ON `orders` (`created_at`);--> statement-breakpoint
CREATE INDEX `idx_payments_order_id` ON `payments` (`order_id`);--> statement-breakpoint
CREATE INDEX `idx_payments_status_created` ON `payments` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_refunds_order_id` ON `refunds` (`order_id`);--> statement-breakpoint
CREATE INDEX `idx_refunds_status_created` ON `refunds` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `idx_skus_status` ON `skus` (`status`);