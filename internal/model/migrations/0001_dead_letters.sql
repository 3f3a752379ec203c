CREATE TABLE `dead_letters` (
	`id` bigint unsigned NOT NULL,
	`source` varchar(8) NOT NULL,
	`message_id` varchar(64) NOT NULL,
	`event_id` varchar(64) NOT NULL DEFAULT '',
	`topic` varchar(64) NOT NULL,
	`consumer_group` varchar(64) NOT NULL,
	`tag` varchar(64) NOT NULL DEFAULT '',
	`message_key` varchar(128) NOT NULL DEFAULT '',
	`message_group` varchar(128) NOT NULL DEFAULT '',
	`body` mediumtext NOT NULL,
	`error_code` varchar(64) NOT NULL,
	`error_message` varchar(500) NOT NULL DEFAULT '',
	`attempts` int NOT NULL DEFAULT 1,
	`status` varchar(16) NOT NULL,
	`replay_count` int NOT NULL DEFAULT 0,
	`first_seen_at` datetime(3) NOT NULL,
	`last_seen_at` datetime(3) NOT NULL,
	`resolved_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `dead_letters_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_dead_letters_message` UNIQUE(`consumer_group`,`message_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_dead_letters_status_topic` ON `dead_letters` (`status`,`topic`,`id`);