CREATE INDEX `idx_mq_tx_log_message_key` ON `mq_tx_log` (`message_key`);--> statement-breakpoint
CREATE INDEX `idx_orders_user_status` ON `orders` (`user_id`,`status`);